import type { AuditEntry } from "@pay/core/contract";
import type { ReactNode } from "react";
import { CursorPager, LoadError, Loading, Time } from "../components/common.js";
import { useCursorStack } from "../components/use-cursor-stack.js";
import { useAuditLog } from "../data/queries.js";
import { useI18n, type Translate } from "../i18n/index.js";

function who(entry: AuditEntry, t: Translate): string {
  if (entry.actor.kind === "token") return t("audit.token");
  return entry.actor.username ?? entry.actor.id ?? "—";
}

export function AuditPage(): ReactNode {
  const { t } = useI18n();
  const pages = useCursorStack();
  const log = useAuditLog(pages.cursor);
  return (
    <>
      <h1>{t("audit.heading")}</h1>
      {log.isPending ? <Loading /> : null}
      {log.isError ? <LoadError error={log.error} /> : null}
      {log.data === undefined ? null : log.data.entries.length === 0 ? (
        <p>{t("audit.empty")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("audit.time")}</th>
              <th scope="col">{t("audit.who")}</th>
              <th scope="col">{t("audit.action")}</th>
              <th scope="col">{t("audit.target")}</th>
              <th scope="col">{t("audit.idempotencyKey")}</th>
              <th scope="col">{t("audit.outcome")}</th>
            </tr>
          </thead>
          <tbody>
            {log.data.entries.map((entry) => (
              <tr key={entry.id}>
                <td>
                  <Time at={entry.at} />
                </td>
                <td>{who(entry, t)}</td>
                <td>{entry.action}</td>
                <td className="mono">{entry.target ?? "—"}</td>
                <td className="mono">{entry.idempotencyKey ?? "—"}</td>
                <td>{entry.outcome}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <CursorPager hasPrevious={pages.hasPrevious} nextCursor={log.data?.nextCursor} onPrevious={pages.previous} onNext={pages.next} />
    </>
  );
}
