import { z } from "zod";

/** The request header that makes a POST safe to retry. */
export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";

/** What a route does with the header: ignores it, honours it when sent, or refuses a request without it. */
export const IDEMPOTENCY_KEY_RULES = ["none", "optional", "required"] as const;
export type IdempotencyKeyRule = (typeof IDEMPOTENCY_KEY_RULES)[number];

/** A client-chosen key: 1-64 printable ASCII characters, no spaces. */
export const IdempotencyKeySchema = z.string().regex(/^[\x21-\x7e]{1,64}$/, "must be 1-64 printable ASCII characters");
