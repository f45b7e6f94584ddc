import { z } from "zod";
import { isCurrency, type Currency } from "../money/currency.js";

/** An ISO 4217 code that @pay/core knows the minor-unit exponent of. */
export const CurrencySchema = z.custom<Currency>(isCurrency, { message: "unknown currency" });

/** A non-negative whole number of minor units. */
export const MinorUnitsSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** An ISO 8601 timestamp with offset, as JSON carries dates. */
export const TimestampSchema = z.iso.datetime({ offset: true });
