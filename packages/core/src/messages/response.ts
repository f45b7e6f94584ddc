import { z } from "zod";
import { camelizeKeys, WireStatusSchema, wireString, type Camelize } from "../wire/fields.js";

/**
 * The envelope of every signed gateway answer (return_code=SUCCESS). Failure answers are handled
 * by parseGatewayResponse before a message schema runs, so these schemas describe what a
 * verified answer carries.
 */
export const ResponseEnvelopeWireSchema = z.object({
  return_code: WireStatusSchema,
  return_msg: wireString(128).optional(),
  appid: wireString(32),
  mch_id: wireString(32),
  sub_appid: wireString(32).optional(),
  sub_mch_id: wireString(32).optional(),
  nonce_str: wireString(32),
  sign: wireString(64),
  sign_type: wireString(32).optional(),
  result_code: WireStatusSchema,
  err_code: wireString(32).optional(),
  err_code_des: wireString(128).optional(),
});

/** Global exchange rate x 10^8 (6.5 -> "650000000"), kept as its exact text. */
export function wireRate() {
  return z.string().regex(/^[0-9]{1,16}$/, "expected an exchange rate x 10^8 in digits");
}

/** What an indexed-field reader returns: the values, or the exact wire name that is wrong and why. */
export type IndexedRead<X> = { readonly ok: true; readonly value: X } | { readonly ok: false; readonly field: string; readonly message: string };

/**
 * A camelCase schema over a whole received record. `wire` parses the scalar fields; `read` then takes
 * the indexed fields (`coupon_fee_$n`, `refund_status_$n`…) from the same record, which an object
 * schema alone would strip, and returns them or the issue that names the bad field.
 */
export function withIndexedFields<W extends z.ZodType<Record<string, unknown>>, X extends Record<string, unknown>>(
  wire: W,
  read: (raw: Readonly<Record<string, string>>, parsed: z.output<W>) => IndexedRead<X>,
) {
  return z.record(z.string(), z.string()).transform((raw, ctx): Camelize<z.output<W>> & X => {
    const parsed = wire.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
      return z.NEVER;
    }
    const indexed = read(raw, parsed.data);
    if (!indexed.ok) {
      ctx.addIssue({ code: "custom", path: [indexed.field], message: indexed.message });
      return z.NEVER;
    }
    return { ...camelizeKeys(parsed.data), ...indexed.value };
  });
}
