import type { AdminOrder, TimelineEntry } from "@pay/core/contract";
import { useState, type ReactNode } from "react";
import { LoadError, Loading, Time } from "../components/common.js";
import { RefundForm } from "../components/refund-form.js";
import { useAdminOrder } from "../data/queries.js";
import { canOperate, useSession } from "../data/session.js";
import { showMoney } from "../format.js";
import { useI18n } from "../i18n/index.js";

function TimelineItem({ entry, order }: { readonly entry: TimelineEntry; readonly order: AdminOrder }): ReactNode {
  const { t } = useI18n();
  const parts: string[] = [];
  if (entry.outcome !== null) parts.push(t("timeline.outcome", { value: entry.outcome }));
  if (entry.reason !== null) parts.push(t("timeline.reason", { value: entry.reason }));
  if (entry.amount !== null) parts.push(showMoney(entry.amount, entry.currency ?? order.feeType));
  if (entry.refundId !== null) parts.push(entry.refundId);
  return (
    <li>
      <Time at={entry.at} /> <strong className="kind">{t(`timeline.${entry.kind}`)}</strong>
      {parts.length > 0 ? <span className="facts"> · {parts.join(" · ")}</span> : null}
      {entry.detail !== null ? <span className="detail"> — {entry.detail}</span> : null}
    </li>
  );
}

export function OrderDetailPage({ id }: { readonly id: string }): ReactNode {
  const { t } = useI18n();
  const detail = useAdminOrder(id);
  const session = useSession();
  const [refunding, setRefunding] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const operator = canOperate(session.data);

  return (
    <>
      <h1>{t("order.heading", { id })}</h1>
      {detail.isPending ? <Loading /> : null}
      {detail.isError ? <LoadError error={detail.error} /> : null}
      {notice === null ? null : <p role="status">{notice}</p>}
      {detail.data === undefined
        ? null
        : (() => {
            const { order, items, refunds, timeline } = detail.data;
            return (
              <>
                <dl className="summary">
                  <dt>{t("col.status")}</dt>
                  <dd>{t(`status.${order.status}`)}</dd>
                  <dt>{t("col.amount")}</dt>
                  <dd>{showMoney(order.totalFee, order.feeType)}</dd>
                  <dt>{t("col.refunded")}</dt>
                  <dd>{showMoney(order.refundedFee, order.feeType)}</dd>
                  <dt>{t("order.refundable")}</dt>
                  <dd>{showMoney(order.refundableFee, order.feeType)}</dd>
                  <dt>{t("order.description")}</dt>
                  <dd>{order.description}</dd>
                  <dt>{t("order.protocol")}</dt>
                  <dd>{order.protocol}</dd>
                  <dt>{t("order.user")}</dt>
                  <dd className="mono">{order.userId}</dd>
                  <dt>{t("col.openid")}</dt>
                  <dd className="mono">{order.openid ?? "—"}</dd>
                  <dt>{t("col.transaction")}</dt>
                  <dd className="mono">{order.transactionId ?? "—"}</dd>
                  <dt>{t("col.created")}</dt>
                  <dd>
                    <Time at={order.createdAt} />
                  </dd>
                  <dt>{t("col.paid")}</dt>
                  <dd>
                    <Time at={order.paidAt} />
                  </dd>
                  <dt>{t("order.closedAt")}</dt>
                  <dd>
                    <Time at={order.closedAt} />
                  </dd>
                </dl>
                {operator && order.refundableFee > 0 && !refunding ? (
                  <p>
                    <button
                      type="button"
                      onClick={() => {
                        setNotice(null);
                        setRefunding(true);
                      }}
                    >
                      {t("order.refundButton")}
                    </button>
                  </p>
                ) : null}
                {operator && refunding ? (
                  <RefundForm
                    order={order}
                    onCancel={() => setRefunding(false)}
                    onRefunded={() => {
                      setRefunding(false);
                      setNotice(t("refund.requested"));
                    }}
                  />
                ) : null}
                <section aria-labelledby="order-items">
                  <h2 id="order-items">{t("order.items")}</h2>
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">{t("order.product")}</th>
                        <th scope="col">{t("order.quantity")}</th>
                        <th scope="col">{t("order.unitPrice")}</th>
                        <th scope="col">{t("order.lineTotal")}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {items.map((item, index) => (
                        <tr key={`${item.productId}-${index}`}>
                          <td>{item.name}</td>
                          <td className="num">{item.quantity}</td>
                          <td className="num">{showMoney(item.unitPrice, order.feeType)}</td>
                          <td className="num">{showMoney(item.unitPrice * item.quantity, order.feeType)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </section>
                <section aria-labelledby="order-refunds">
                  <h2 id="order-refunds">{t("order.refunds")}</h2>
                  {refunds.length === 0 ? (
                    <p>{t("order.noRefunds")}</p>
                  ) : (
                    <table>
                      <thead>
                        <tr>
                          <th scope="col">{t("order.refundId")}</th>
                          <th scope="col">{t("col.amount")}</th>
                          <th scope="col">{t("col.status")}</th>
                          <th scope="col">{t("order.reason")}</th>
                          <th scope="col">{t("col.created")}</th>
                          <th scope="col">{t("order.succeededAt")}</th>
                        </tr>
                      </thead>
                      <tbody>
                        {refunds.map((refund) => (
                          <tr key={refund.id}>
                            <td className="mono">{refund.id}</td>
                            <td className="num">{showMoney(refund.refundFee, refund.currency)}</td>
                            <td>{t(`refundStatus.${refund.status}`)}</td>
                            <td>{refund.reason ?? "—"}</td>
                            <td>
                              <Time at={refund.createdAt} />
                            </td>
                            <td>
                              <Time at={refund.succeededAt} />
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  )}
                </section>
                <section aria-labelledby="order-timeline">
                  <h2 id="order-timeline">{t("order.timeline")}</h2>
                  <ol aria-label={t("order.timeline")} className="timeline">
                    {timeline.map((entry, index) => (
                      <TimelineItem key={`${entry.at}-${entry.kind}-${index}`} entry={entry} order={order} />
                    ))}
                  </ol>
                  {timeline.length === 0 ? <p>{t("order.noTimeline")}</p> : null}
                </section>
              </>
            );
          })()}
    </>
  );
}
