import type { CurrencyTotal } from "@pay/core/contract";
import type { ReactNode } from "react";
import { LoadError, Loading, Time } from "../components/common.js";
import { useOverview } from "../data/queries.js";
import { showMoney } from "../format.js";
import { useI18n } from "../i18n/index.js";

function TotalsTable({ caption, totals, empty }: { readonly caption: string; readonly totals: readonly CurrencyTotal[]; readonly empty: string }): ReactNode {
  const { t } = useI18n();
  if (totals.length === 0) return <p>{empty}</p>;
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{t("overview.currency")}</th>
          <th scope="col">{t("overview.count")}</th>
          <th scope="col">{t("overview.amount")}</th>
        </tr>
      </thead>
      <tbody>
        {totals.map((total) => (
          <tr key={total.currency}>
            <td>{total.currency}</td>
            <td className="num">{total.count}</td>
            <td className="num">{showMoney(total.amount, total.currency)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function OverviewPage(): ReactNode {
  const { t } = useI18n();
  const overview = useOverview();
  return (
    <>
      <h1>{t("overview.heading")}</h1>
      {overview.isPending ? <Loading /> : null}
      {overview.isError ? <LoadError error={overview.error} /> : null}
      {overview.data === undefined ? null : (
        <>
          <p>{t("overview.day", { date: overview.data.date })}</p>
          <section aria-labelledby="overview-payments">
            <h2 id="overview-payments">{t("overview.payments")}</h2>
            <TotalsTable caption={t("overview.payments")} totals={overview.data.payments} empty={t("overview.noPayments")} />
          </section>
          <section aria-labelledby="overview-refunds">
            <h2 id="overview-refunds">{t("overview.refunds")}</h2>
            <TotalsTable caption={t("overview.refunds")} totals={overview.data.refunds} empty={t("overview.noRefunds")} />
          </section>
          <section aria-labelledby="overview-attention">
            <h2 id="overview-attention">{t("overview.attention")}</h2>
            <dl className="figures">
              <dt>{t("overview.refundsOpen")}</dt>
              <dd>{overview.data.refundsOpen}</dd>
              <dt>{t("overview.refusedNotifies")}</dt>
              <dd>{overview.data.refusedNotifies}</dd>
              <dt>{t("overview.openDifferences")}</dt>
              <dd>{overview.data.openDifferences}</dd>
              <dt>{t("overview.failedReconciliations")}</dt>
              <dd>{overview.data.failedReconciliations}</dd>
              <dt>{t("overview.webhooksPending")}</dt>
              <dd>{overview.data.webhooks.pending}</dd>
              <dt>{t("overview.webhooksFailed")}</dt>
              <dd>{overview.data.webhooks.failed}</dd>
              <dt>{t("overview.oldestPending")}</dt>
              <dd>
                <Time at={overview.data.webhooks.oldestPendingAt} />
              </dd>
            </dl>
          </section>
        </>
      )}
    </>
  );
}
