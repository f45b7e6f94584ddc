import type { z } from "zod";
import { PayNotifySchema, readCoupons, readPayNotify, type PayNotify } from "../messages/pay-notify.js";
import { err, ok, type Result } from "../result.js";
import type { SignType } from "../sign/sign-type.js";
import { verifyParsedSign, type VerifyErrorCode, type VerifyOptions } from "../sign/verify.js";
import { parseXmlFlat, type XmlErrorCode, type XmlFields } from "../xml/parse.js";

export type PayNotifyErrorCode = XmlErrorCode | VerifyErrorCode | "RETURN_FAIL" | "INVALID_FIELD";

export interface ParsePayNotifyOptions extends VerifyOptions {
  readonly maxBytes?: number;
}

/** A verified pay notify: the typed value beside every field received. */
export interface VerifiedPayNotify {
  readonly notify: PayNotify;
  /** Every field as received, including ones not modelled (verification covered them all). */
  readonly raw: Readonly<XmlFields>;
  readonly signType: SignType;
  /** True only for result_code=SUCCESS; a FAIL notify is acknowledged but never marks an order paid. */
  readonly paid: boolean;
}

/** Describes the first issue of a failed schema parse, naming the field. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return "The message is invalid.";
  const field = issue.path.join(".") || "message";
  return `Field ${field}: ${issue.message}`;
}

/**
 * Parses and verifies a pay result notify from its raw body: safe XML, then the signature over
 * every received field, then the field types. Hostile input yields a coded error, never a throw.
 */
export function parsePayNotify(body: string | Uint8Array, options: ParsePayNotifyOptions): Result<VerifiedPayNotify, PayNotifyErrorCode> {
  const xml = parseXmlFlat(body, options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes });
  if (!xml.ok) return xml;
  const raw = xml.value.fields;
  if (raw.return_code !== "SUCCESS") {
    return err("RETURN_FAIL", `The notify has return_code ${raw.return_code ?? "(missing)"}: ${raw.return_msg ?? ""}`.trim());
  }
  const verified = verifyParsedSign(xml.value, options);
  if (!verified.ok) return verified;
  // The field checks without zod; when one fails, the schema runs to name the field (and has the last word).
  const fast = readPayNotify(raw);
  let fields = fast;
  if (fields === undefined) {
    const typed = PayNotifySchema.safeParse(raw);
    if (!typed.success) return err("INVALID_FIELD", describeIssue(typed.error));
    fields = typed.data;
  }
  const coupons = readCoupons(raw, fields.couponCount);
  if (coupons === undefined) return err("INVALID_FIELD", "Field coupon_fee_$n: malformed coupon fields.");
  // readPayNotify's object is new and ours: the coupons join it instead of a copy of its thirty fields.
  const notify: PayNotify = fast === undefined ? { ...fields, coupons } : Object.assign(fast, { coupons });
  return ok({ notify, raw, signType: verified.value.signType, paid: fields.resultCode === "SUCCESS" });
}
