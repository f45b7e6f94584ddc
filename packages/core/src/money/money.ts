import { err, ok, type Result } from "../result.js";
import { currencyExponent, currencySymbol, isCurrency, type Currency } from "./currency.js";

/** An amount of money: an integer count of the currency's minor unit. Never a float. */
export interface Money {
  readonly amount: number;
  readonly currency: Currency;
}

export type MoneyErrorCode = "INVALID_AMOUNT" | "UNKNOWN_CURRENCY" | "TOO_PRECISE" | "OUT_OF_RANGE";

/** Builds a Money after checking the amount is a safe integer and the currency is known. */
export function money(amount: number, currency: string): Result<Money, MoneyErrorCode> {
  if (!isCurrency(currency)) return err("UNKNOWN_CURRENCY", `Unknown currency "${currency}".`);
  if (!Number.isSafeInteger(amount)) return err("INVALID_AMOUNT", `Amount ${amount} is not a whole number of minor units.`);
  return ok({ amount, currency });
}

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Major-unit decimal text of a minor-unit amount: (1234, CNY) -> "12.34", (1234, JPY) -> "1234". */
export function formatAmount(amount: number, currency: Currency, options: { grouping?: boolean } = {}): string {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`Amount ${amount} is not a whole number of minor units.`);
  const exponent = currencyExponent(currency);
  const negative = amount < 0;
  const digits = String(Math.abs(amount)).padStart(exponent + 1, "0");
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  const wholeText = options.grouping === true ? groupThousands(whole) : whole;
  return `${negative ? "-" : ""}${wholeText}${exponent > 0 ? `.${fraction}` : ""}`;
}

/** Human display: "¥12.34", "HK$1,000.00", "¥1,750" (JPY), "KWD 1.250". */
export function formatMoney(value: Money): string {
  const text = formatAmount(Math.abs(value.amount), value.currency, { grouping: true });
  const symbol = currencySymbol(value.currency);
  const sign = value.amount < 0 ? "-" : "";
  return symbol === undefined ? `${sign}${value.currency} ${text}` : `${sign}${symbol}${text}`;
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * Parses major-unit decimal text into minor units without floating point:
 * ("12.34", CNY) -> 1234; ("0.001", CNY) -> TOO_PRECISE. Used for the bill CSV, where amounts are yuan.
 */
export function parseAmount(text: string, currency: string): Result<Money, MoneyErrorCode> {
  if (!isCurrency(currency)) return err("UNKNOWN_CURRENCY", `Unknown currency "${currency}".`);
  const match = DECIMAL.exec(text.trim());
  if (match === null) return err("INVALID_AMOUNT", `"${text}" is not a decimal amount.`);
  const [, sign = "", whole = "", fraction = ""] = match;
  const exponent = currencyExponent(currency);
  const significant = fraction.replace(/0+$/, "");
  if (significant.length > exponent) {
    return err("TOO_PRECISE", `"${text}" has more than ${exponent} decimal places for ${currency}.`);
  }
  const minor = Number(`${whole}${fraction.padEnd(exponent, "0").slice(0, exponent)}`);
  if (!Number.isSafeInteger(minor)) return err("OUT_OF_RANGE", `"${text}" is too large.`);
  return ok({ amount: sign === "-" && minor !== 0 ? -minor : minor, currency });
}
