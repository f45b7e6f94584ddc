import { timingSafeEqual } from "node:crypto";
import type { z } from "zod";
import { WebhookEventSchema, type WebhookEvent } from "../contract/webhook.js";
import { err, ok, type Result } from "../result.js";
import { epochMs, type Instant } from "../time.js";
import { WEBHOOK_SIGNATURE_HEADER, WEBHOOK_SIGNATURE_SCHEME, webhookSignature } from "./sign.js";

/** Why a webhook was refused; programs branch on these, never on the message. */
export const WEBHOOK_VERIFY_ERROR_CODES = ["MALFORMED_HEADER", "SIGNATURE_MISMATCH", "TIMESTAMP_OUT_OF_TOLERANCE", "MALFORMED_BODY", "INVALID_EVENT"] as const;
export type WebhookVerifyErrorCode = (typeof WEBHOOK_VERIFY_ERROR_CODES)[number];

/** How far (either way) a signature's `t` may be from `now` by default: 5 minutes, as WeChat Pay and Stripe use. */
export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;
/** A longer Pay-Signature is refused unread (ours is under 200 characters, or about 270 during a rotation). */
export const MAX_WEBHOOK_SIGNATURE_HEADER_LENGTH = 4096;

export interface VerifyWebhookOptions {
  /** The receiver's clock: a Date or epoch milliseconds (`Date.now()`), injected like every @pay/core clock. */
  readonly now: Instant;
  /** Whole seconds `t` may be from `now`, in the past or in the future. Default 300. */
  readonly toleranceSeconds?: number;
}

// `t` as the sender writes it: whole unix seconds, no sign, no leading zero, no fraction (the HMAC covers these exact characters).
const TIMESTAMP = /^(0|[1-9][0-9]{0,11})$/;
const SIGNATURE_HEX_LENGTH = 64;
// RFC 9110 list syntax: optional spaces and tabs around each element, empty elements ignored (a proxy that joins
// two header lines writes ", ").
const OWS = /^[ \t]+|[ \t]+$/g;
const MAX_ISSUES_SHOWN = 3;

const encoder = new TextEncoder();
// fatal: invalid UTF-8 is refused, not replaced; ignoreBOM: a leading BOM stays in the text, so JSON.parse refuses it.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

interface ParsedSignatureHeader {
  readonly timestamp: number;
  readonly signatures: readonly string[];
}

/**
 * Verifies a webhook from the API and returns its typed event: the HMAC-SHA256 of `t.body` under one of
 * `secrets` must equal one of the `v1` values of `Pay-Signature` (compared in constant time), `t` must be
 * within `toleranceSeconds` of `now` (either way), and the body must be a UTF-8 JSON {@link WebhookEvent}.
 * The signature is checked over the raw bytes before anything is parsed.
 *
 * Pass the body exactly as received: a Uint8Array/Buffer of the request's bytes, or the exact string.
 * Never `JSON.stringify(req.body)`: re-serialised JSON changes spacing and escapes and never verifies.
 * Several `v1` values (the sender rotating its secret) and several `secrets` (you rotating yours) both work.
 *
 * Untrusted input never throws; it is a coded refusal (see {@link WEBHOOK_VERIFY_ERROR_CODES}). Misuse
 * throws: a body that is not a string or bytes (a TypeError: a body parser ran first), no secret or an
 * empty one, a negative or fractional `toleranceSeconds`, or an invalid `now` (RangeError).
 */
export function verifyWebhook(
  rawBody: string | Uint8Array,
  signatureHeader: string | null | undefined,
  secrets: string | readonly string[],
  options: VerifyWebhookOptions,
): Result<WebhookEvent, WebhookVerifyErrorCode> {
  if (typeof rawBody !== "string" && !(rawBody instanceof Uint8Array)) {
    throw new TypeError(
      `verifyWebhook needs the raw body (a string or bytes, as received), got ${kindOf(rawBody)}: a JSON body parser ran first. Read the raw body (express.raw({ type: "application/json" }), or raw-body in Koa) and verify that; re-serialised JSON never verifies.`,
    );
  }
  const keys = secretList(secrets);
  const tolerance = options.toleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
  if (!Number.isSafeInteger(tolerance) || tolerance < 0) throw new RangeError(`toleranceSeconds is whole seconds, 0 or more; got ${tolerance}.`);
  const nowSeconds = Math.floor(nowMs(options.now) / 1000);

  const header = parseSignatureHeader(signatureHeader);
  if (!header.ok) return header;
  const { timestamp, signatures } = header.value;

  if (!signatureMatches(rawBody, timestamp, signatures, keys)) {
    const odd = signatures.filter((value) => !/^[0-9a-f]{64}$/.test(value)).length;
    const oddNote = odd === 0 ? "" : ` (${odd} of them not ${SIGNATURE_HEX_LENGTH} lowercase hex characters)`;
    return err(
      "SIGNATURE_MISMATCH",
      `No ${WEBHOOK_SIGNATURE_SCHEME} value of ${WEBHOOK_SIGNATURE_HEADER}${oddNote} matches the body under any of the ${keys.length} secret(s) given: a wrong or rotated secret, a body changed on the way, or a body re-serialised after parsing (verify the raw bytes).`,
    );
  }

  const age = nowSeconds - timestamp;
  if (age > tolerance) {
    return err(
      "TIMESTAMP_OUT_OF_TOLERANCE",
      `${WEBHOOK_SIGNATURE_HEADER} t=${timestamp} is ${age} s in the past; more than ${tolerance} s is refused (a replay, or a clock that is behind).`,
    );
  }
  if (-age > tolerance) {
    return err(
      "TIMESTAMP_OUT_OF_TOLERANCE",
      `${WEBHOOK_SIGNATURE_HEADER} t=${timestamp} is ${-age} s in the future; more than ${tolerance} s is refused (one of the two clocks is wrong).`,
    );
  }

  let text: string;
  try {
    text = typeof rawBody === "string" ? rawBody : utf8.decode(rawBody);
  } catch {
    return err("MALFORMED_BODY", "The body is not UTF-8 text, though its signature is good.");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return err("MALFORMED_BODY", `The body is not JSON, though its signature is good: ${(error as Error).message}`);
  }
  const event = WebhookEventSchema.safeParse(json);
  if (!event.success) {
    return err("INVALID_EVENT", `The body is signed JSON but not a webhook event this version of @pay/core knows: ${describeIssues(event.error.issues)}.`);
  }
  return ok(event.data);
}

// What a caller passed instead of a body, for the message (a parsed object is the usual mistake).
function kindOf(value: unknown): string {
  return value === null ? "null" : typeof value;
}

function secretList(secrets: string | readonly string[]): readonly string[] {
  const list: readonly unknown[] = typeof secrets === "string" ? [secrets] : Array.isArray(secrets) ? secrets : [];
  if (list.length === 0) throw new RangeError("verifyWebhook needs at least one secret.");
  if (list.some((secret) => typeof secret !== "string" || secret === "")) throw new RangeError("verifyWebhook's secrets are non-empty strings (is WEBHOOK_SECRET set?).");
  return list as readonly string[];
}

function nowMs(now: Instant): number {
  try {
    return epochMs(now);
  } catch (error) {
    throw new RangeError("verifyWebhook's now is a valid Date or epoch milliseconds.", { cause: error });
  }
}

/** `t=<unix seconds>,v1=<hex>[,v1=<hex>...]`; other schemes (v0=, v2=) are ignored, a repeated `t` is refused. */
function parseSignatureHeader(header: string | null | undefined): Result<ParsedSignatureHeader, "MALFORMED_HEADER"> {
  const name = WEBHOOK_SIGNATURE_HEADER;
  if (header === null || header === undefined || header === "") return err("MALFORMED_HEADER", `${name} is missing (a proxy may have stripped it).`);
  if (typeof header !== "string") return err("MALFORMED_HEADER", `${name} is not a single header value.`);
  if (header.length > MAX_WEBHOOK_SIGNATURE_HEADER_LENGTH) return err("MALFORMED_HEADER", `${name} is longer than ${MAX_WEBHOOK_SIGNATURE_HEADER_LENGTH} characters.`);

  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const element of header.split(",")) {
    const item = element.replace(OWS, "");
    if (item === "") continue;
    const eq = item.indexOf("=");
    if (eq <= 0) return err("MALFORMED_HEADER", `${name} has an element that is not key=value.`);
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    if (key === "t") {
      if (timestamp !== undefined) return err("MALFORMED_HEADER", `${name} has more than one t=.`);
      timestamp = value;
    } else if (key === WEBHOOK_SIGNATURE_SCHEME) {
      signatures.push(value);
    }
  }
  if (timestamp === undefined) return err("MALFORMED_HEADER", `${name} has no t= (the signing time).`);
  if (!TIMESTAMP.test(timestamp)) return err("MALFORMED_HEADER", `${name} t= is not whole unix seconds.`);
  if (signatures.length === 0) return err("MALFORMED_HEADER", `${name} has no ${WEBHOOK_SIGNATURE_SCHEME}= signature.`);
  return ok({ timestamp: Number(timestamp), signatures });
}

// Every (secret, v1) pair is compared, with no early exit, in constant time over equal-length bytes: the time taken
// says nothing about how close a forged signature came.
function signatureMatches(body: string | Uint8Array, timestamp: number, signatures: readonly string[], secrets: readonly string[]): boolean {
  const received = signatures.map((value) => encoder.encode(value));
  let matched = false;
  for (const secret of secrets) {
    const expected = encoder.encode(webhookSignature(secret, timestamp, body));
    for (const candidate of received) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
    }
  }
  return matched;
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, MAX_ISSUES_SHOWN).map((issue) => `${issue.path.length === 0 ? "(the body)" : formatPath(issue.path)}: ${issue.message}`);
  const more = issues.length > MAX_ISSUES_SHOWN ? ` (and ${issues.length - MAX_ISSUES_SHOWN} more)` : "";
  return shown.join("; ") + more;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`)).join("");
}
