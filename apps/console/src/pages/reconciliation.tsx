import type { ReconciliationRunSummary, ReconciliationSideTotals } from "@pay/core/contract";
import type { ReactNode } from "react";
import { Link } from "wouter";
import { CursorPager, LoadError, Loading, Time } from "../components/common.js";
import { useCursorStack } from "../components/use-cursor-stack.js";
import { useReconciliation, useReconciliations, useRunReconciliation } from "../data/queries.js";
import { canOperate, useSession } from "../data/session.js";
import { showMoney } from "../format.js";
import { useI18n } from "../i18n/index.js";

function differenceCount(run: ReconciliationRunSummary): number {
  return Object.values(run.differences).reduce((sum, count) => sum + count, 0);
}

export function ReconciliationPage(): ReactNode {
  const { t } = useI18n();
  const list = useReconciliations();
  return (
    <>
      <h1>{t("recon.heading")}</h1>
      {list.isPending ? <Loading /> : null}
      {list.isError ? <LoadError error={list.error} /> : null}
      {list.data === undefined ? null : list.data.runs.length === 0 ? (
        <p>{t("recon.empty")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("recon.date")}</th>
              <th scope="col">{t("recon.state")}</th>
              <th scope="col">{t("recon.bill")}</th>
              <th scope="col">{t("recon.differences")}</th>
              <th scope="col">{t("recon.finished")}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.runs.map((run) => (
              <tr key={run.date}>
                <td>
                  <Link href={`/reconciliation/${run.date}`}>{run.date}</Link>
                </td>
                <td>
                  {t(`reconState.${run.state}`)}
                  {run.error === null ? null : ` (${run.error.code})`}
                </td>
                <td>{run.bill ?? "—"}</td>
                <td className="num">{differenceCount(run)}</td>
                <td>
                  <Time at={run.finishedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function SideRow({ label, side, currency }: { readonly label: string; readonly side: ReconciliationSideTotals; readonly currency: string }): ReactNode {
  return (
    <tr>
      <th scope="row">{label}</th>
      <td className="num">{side.paymentCount}</td>
      <td className="num">{showMoney(side.paymentAmount, currency)}</td>
      <td className="num">{side.refundCount}</td>
      <td className="num">{showMoney(side.refundAmount, currency)}</td>
    </tr>
  );
}

export function ReconciliationDayPage({ date }: { readonly date: string }): ReactNode {
  const { t } = useI18n();
  const pages = useCursorStack();
  const day = useReconciliation(date, pages.cursor);
  const session = useSession();
  const run = useRunReconciliation(date);
  const totals = day.data?.run.totals ?? null;
  return (
    <>
      <h1>{t("recon.dayHeading", { date })}</h1>
      {day.isPending ? <Loading /> : null}
      {day.isError ? <LoadError error={day.error} /> : null}
      {canOperate(session.data) ? (
        <p>
          <button type="button" disabled={run.isPending || day.data?.run.state === "running"} onClick={() => run.mutate()}>
            {t("recon.runAgain")}
          </button>
        </p>
      ) : null}
      {run.isSuccess ? <p role="status">{t("recon.runStarted")}</p> : null}
      {run.isError ? <p role="alert">{run.error.message}</p> : null}
      {day.data === undefined ? null : (
        <>
          <dl className="summary">
            <dt>{t("recon.state")}</dt>
            <dd>{t(`reconState.${day.data.run.state}`)}</dd>
            <dt>{t("recon.bill")}</dt>
            <dd>{day.data.run.bill ?? "—"}</dd>
            <dt>{t("recon.finished")}</dt>
            <dd>
              <Time at={day.data.run.finishedAt} />
            </dd>
            {day.data.run.error === null ? null : (
              <>
                <dt>{t("recon.error")}</dt>
                <dd>
                  {day.data.run.error.code}: {day.data.run.error.message}
                </dd>
              </>
            )}
          </dl>
          <section aria-labelledby="recon-totals">
            <h2 id="recon-totals">{t("recon.totals")}</h2>
            {totals === null ? (
              <p>{t("recon.noTotals")}</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t("recon.side")}</th>
                    <th scope="col">{t("recon.paymentCount")}</th>
                    <th scope="col">{t("recon.paymentAmount")}</th>
                    <th scope="col">{t("recon.refundCount")}</th>
                    <th scope="col">{t("recon.refundAmount")}</th>
                  </tr>
                </thead>
                <tbody>
                  <SideRow label={t("recon.billSide")} side={totals.bill} currency={totals.currency} />
                  <SideRow label={t("recon.oursSide")} side={totals.ours} currency={totals.currency} />
                </tbody>
              </table>
            )}
          </section>
          <section aria-labelledby="recon-differences">
            <h2 id="recon-differences">{t("recon.differences")}</h2>
            {day.data.items.length === 0 ? (
              <p>{t("recon.noDifferences")}</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t("recon.class")}</th>
                    <th scope="col">{t("recon.resolution")}</th>
                    <th scope="col">{t("recon.billAmount")}</th>
                    <th scope="col">{t("recon.ourAmount")}</th>
                    <th scope="col">{t("col.order")}</th>
                    <th scope="col">{t("recon.detail")}</th>
                  </tr>
                </thead>
                <tbody>
                  {day.data.items.map((item) => (
                    <tr key={item.id}>
                      <td>{t(`reconClass.${item.class}`)}</td>
                      <td>{t(`reconResolution.${item.resolution}`)}</td>
                      <td className="num">{showMoney(item.billAmount, item.billCurrency)}</td>
                      <td className="num">{showMoney(item.ourAmount, item.ourCurrency)}</td>
                      <td>{item.orderId === null ? "—" : <Link href={`/orders/${encodeURIComponent(item.orderId)}`}>{item.orderId}</Link>}</td>
                      <td>{item.detail}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <CursorPager hasPrevious={pages.hasPrevious} nextCursor={day.data.nextCursor} onPrevious={pages.previous} onNext={pages.next} />
          </section>
        </>
      )}
    </>
  );
}
