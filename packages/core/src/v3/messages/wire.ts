import { z } from "zod";
import { CurrencySchema } from "../../contract/common.js";
import type { Currency } from "../../money/currency.js";
import type { Money } from "../../money/money.js";
import { isRfc3339WithOffset } from "./request.js";

/** A JSON amount of minor units: a non-negative safe integer (never a float, never a string). */
export const WireMinorUnitsSchema = z.number().int("expected a whole number of minor units").nonnegative("must not be negative").max(Number.MAX_SAFE_INTEGER);

/** A currency the answer names, one whose exponent @pay/core knows. */
export const WireCurrencySchema = CurrencySchema;

/** Answer text of at most `max` characters. */
export function wireText(max = 256) {
  return z.string().max(max, `must be at most ${max} characters`);
}

/** An RFC 3339 time with an offset, kept as its text (`2023-05-06T15:17:31+08:00`). */
export const WireTimeSchema = z.string().refine(isRfc3339WithOffset, "expected RFC 3339 with an offset");

/** Global's exchange rate: `{type, rate}` with rate x 10^8 as an integer (`80000000` = 0.8). */
export const WireExchangeRateSchema = z.object({ type: wireText(32), rate: WireMinorUnitsSchema });
export interface V3ExchangeRate {
  readonly type: string;
  /** The rate x 10^8, exact. */
  readonly rate: number;
}

/** `amount` in `currency`, as Money. */
export function moneyOf(amount: number, currency: Currency): Money {
  return { amount, currency };
}
