import { ORDER_STATUSES, type OrderStatus } from "@pay/core/contract";
import { useState, type FormEvent, type ReactNode } from "react";
import { Link } from "wouter";
import { CursorPager, LoadError, Loading, Time } from "../components/common.js";
import { useCursorStack } from "../components/use-cursor-stack.js";
import { useApi } from "../data/api-context.js";
import type { AdminOrderFilters } from "../data/keys.js";
import { useAdminOrders } from "../data/queries.js";
import { showMoney } from "../format.js";
import { useI18n } from "../i18n/index.js";

function isStatus(value: string): value is OrderStatus {
  return (ORDER_STATUSES as readonly string[]).includes(value);
}

/** The filters the form holds, as the API takes them (empty fields left out). */
export function filtersFrom(form: { readonly status: string; readonly from: string; readonly to: string; readonly q: string }): AdminOrderFilters {
  const q = form.q.trim();
  return {
    ...(isStatus(form.status) ? { status: form.status } : {}),
    ...(form.from === "" ? {} : { from: form.from }),
    ...(form.to === "" ? {} : { to: form.to }),
    ...(q === "" ? {} : { q }),
  };
}

export function OrdersPage(): ReactNode {
  const { t } = useI18n();
  const api = useApi();
  const [form, setForm] = useState({ status: "", from: "", to: "", q: "" });
  const [filters, setFilters] = useState<AdminOrderFilters>({});
  const pages = useCursorStack();
  const orders = useAdminOrders(filters, pages.cursor);
  const exportHref = api.urlFor("exportAdminOrders", { query: filters });

  function submit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    setFilters(filtersFrom(form));
    pages.reset();
  }

  return (
    <>
      <h1>{t("orders.heading")}</h1>
      <form role="search" aria-label={t("orders.filters")} className="filters" onSubmit={submit}>
        <div className="field">
          <label htmlFor="orders-status">{t("orders.status")}</label>
          <select id="orders-status" value={form.status} onChange={(event) => setForm({ ...form, status: event.target.value })}>
            <option value="">{t("orders.all")}</option>
            {ORDER_STATUSES.map((status) => (
              <option key={status} value={status}>
                {t(`status.${status}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="orders-from">{t("orders.from")}</label>
          <input id="orders-from" type="date" value={form.from} onChange={(event) => setForm({ ...form, from: event.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="orders-to">{t("orders.to")}</label>
          <input id="orders-to" type="date" value={form.to} onChange={(event) => setForm({ ...form, to: event.target.value })} />
        </div>
        <div className="field grow">
          <label htmlFor="orders-q">{t("orders.search")}</label>
          <input
            id="orders-q"
            type="search"
            maxLength={128}
            placeholder={t("orders.searchPlaceholder")}
            value={form.q}
            onChange={(event) => setForm({ ...form, q: event.target.value })}
          />
        </div>
        <button type="submit">{t("orders.searchButton")}</button>
      </form>
      <p>
        <a href={exportHref} download>
          {t("orders.export")}
        </a>
      </p>
      {orders.isPending ? <Loading /> : null}
      {orders.isError ? <LoadError error={orders.error} /> : null}
      {orders.data === undefined ? null : orders.data.orders.length === 0 ? (
        <p>{t("orders.empty")}</p>
      ) : (
        <table>
          <caption>{t("orders.caption")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("col.order")}</th>
              <th scope="col">{t("col.status")}</th>
              <th scope="col">{t("col.amount")}</th>
              <th scope="col">{t("col.refunded")}</th>
              <th scope="col">{t("col.created")}</th>
              <th scope="col">{t("col.paid")}</th>
              <th scope="col">{t("col.transaction")}</th>
              <th scope="col">{t("col.openid")}</th>
            </tr>
          </thead>
          <tbody>
            {orders.data.orders.map((order) => (
              <tr key={order.id}>
                <td>
                  <Link href={`/orders/${encodeURIComponent(order.id)}`}>{order.id}</Link>
                </td>
                <td>{t(`status.${order.status}`)}</td>
                <td className="num">{showMoney(order.totalFee, order.feeType)}</td>
                <td className="num">{showMoney(order.refundedFee, order.feeType)}</td>
                <td>
                  <Time at={order.createdAt} />
                </td>
                <td>
                  <Time at={order.paidAt} />
                </td>
                <td className="mono">{order.transactionId ?? "—"}</td>
                <td className="mono">{order.openid ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <CursorPager hasPrevious={pages.hasPrevious} nextCursor={orders.data?.nextCursor} onPrevious={pages.previous} onNext={pages.next} />
    </>
  );
}
