import type { Order, OrderStatus } from "@pay/core/contract";
import { formatMoney } from "../lib/pay-core.js";

const STATUS_LABELS: Readonly<Record<OrderStatus, string>> = {
  pending: "Awaiting payment",
  paid: "Paid",
  closed: "Closed",
  refunded: "Refunded",
};

export function statusLabel(status: OrderStatus): string {
  return STATUS_LABELS[status];
}

/** "Coffee beans x2, Tea" for a list row. */
export function itemsSummary(order: Order): string {
  return order.items.map((item) => (item.quantity > 1 ? `${item.name} x${item.quantity}` : item.name)).join(", ");
}

/** "2026-03-01 14:05" in the phone's time zone, from the API's ISO timestamp. */
export function shortTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const two = (n: number): string => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}`;
}

/** The order's total as the server charged it. */
export function orderTotal(order: Order): string {
  return formatMoney({ amount: order.totalFee, currency: order.feeType });
}

/** A wait the server asked for, for a sentence or a button: "45 s" up to two minutes, then whole minutes ("3 min"), rounded up. */
export function formatWait(seconds: number): string {
  return seconds < 120 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
}
