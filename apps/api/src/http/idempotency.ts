import { IDEMPOTENCY_KEY_HEADER, IdempotencyKeySchema } from "@pay/core/contract";
import type { Context } from "koa";
import { ApiError } from "../errors.js";

/**
 * The request's Idempotency-Key under a route's rule: undefined when an optional key is not sent, a
 * 400 naming the header when a required one is missing or any sent one is malformed.
 */
export function readIdempotencyKey(ctx: Context, rule: "optional" | "required"): string | undefined {
  const header = ctx.get(IDEMPOTENCY_KEY_HEADER);
  if (header === "") {
    if (rule === "required") {
      throw new ApiError("VALIDATION_FAILED", `${IDEMPOTENCY_KEY_HEADER}: this request needs one, so that a retry never refunds twice.`, { field: IDEMPOTENCY_KEY_HEADER });
    }
    return undefined;
  }
  const parsed = IdempotencyKeySchema.safeParse(header);
  if (!parsed.success) throw new ApiError("VALIDATION_FAILED", `${IDEMPOTENCY_KEY_HEADER}: ${parsed.error.issues[0]?.message ?? "invalid"}`, { field: IDEMPOTENCY_KEY_HEADER });
  return parsed.data;
}
