import { z } from "zod";
import { CURRENCIES } from "../money/currency.js";

/** An ISO 4217 code that @pay/core knows the minor-unit exponent of (an enum, so JSON Schema can say which). */
export const CurrencySchema = z.enum(CURRENCIES, { error: "unknown currency" });

/** A non-negative whole number of minor units. */
export const MinorUnitsSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** An ISO 8601 timestamp with offset, as JSON carries dates. */
export const TimestampSchema = z.iso.datetime({ offset: true });
