import { formatMoney, isCurrency } from "@pay/core/money";

/** An amount in minor units shown with its currency ("¥12.34"), through @pay/core/money; "—" when there is none. */
export function showMoney(amount: number | null | undefined, currency: string | null | undefined): string {
  if (amount === null || amount === undefined || currency === null || currency === undefined || !isCurrency(currency)) return "—";
  return formatMoney({ amount, currency });
}

const BEIJING_OFFSET_MS = 8 * 3600_000;

/** A timestamp as Beijing wall time, `YYYY-MM-DD HH:mm:ss` (the day WeChat Pay's bills and the console's figures use); "—" when null. */
export function showTime(at: string | null | undefined): string {
  if (at === null || at === undefined) return "—";
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) return at;
  const text = new Date(ms + BEIJING_OFFSET_MS).toISOString();
  return `${text.slice(0, 10)} ${text.slice(11, 19)}`;
}
