import type { z } from "zod";
import { err, ok, type Result } from "../../result.js";
import { snakeCase } from "../../wire/fields.js";

/** Why a v3 answer body could not be read. */
export const V3_ANSWER_ERROR_CODES = ["MALFORMED_ANSWER", "MISSING_FIELD", "INVALID_FIELD"] as const;
export type V3AnswerErrorCode = (typeof V3_ANSWER_ERROR_CODES)[number];

/** Answers longer than this many characters are refused before JSON.parse: no v3 answer we read comes near it. */
export const V3_ANSWER_MAX_LENGTH = 1024 * 1024;

function at(value: unknown, path: readonly PropertyKey[]): unknown {
  let here = value;
  for (const key of path) {
    if (typeof here !== "object" || here === null || !Object.prototype.hasOwnProperty.call(here, key)) return undefined;
    here = (here as Record<PropertyKey, unknown>)[key];
  }
  return here;
}

/**
 * Parses a verified answer's raw JSON text with a wire schema into its typed value. Extra fields are
 * tolerated (the gateway adds fields over time); a required one that is absent is MISSING_FIELD, a
 * present one of the wrong shape INVALID_FIELD, text that is not a JSON object MALFORMED_ANSWER.
 * The message names the wire path (`amount.payer_total`). Never throws.
 */
export function parseV3Answer<S extends z.ZodType>(schema: S, text: string): Result<z.output<S>, V3AnswerErrorCode> {
  if (text.length > V3_ANSWER_MAX_LENGTH) return err("MALFORMED_ANSWER", `The answer is longer than ${V3_ANSWER_MAX_LENGTH} characters.`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return err("MALFORMED_ANSWER", "The answer is not JSON.");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return err("MALFORMED_ANSWER", "The answer is not a JSON object.");
  const parsed = schema.safeParse(json);
  if (parsed.success) return ok(parsed.data);
  const issue = parsed.error.issues[0];
  const path = issue?.path ?? [];
  const field = path.length === 0 ? "answer" : path.map((p) => (typeof p === "string" ? snakeCase(p) : String(p))).join(".");
  const missing = path.length > 0 && at(json, path) === undefined;
  return err(missing ? "MISSING_FIELD" : "INVALID_FIELD", `Field ${field}: ${missing ? "is required" : (issue?.message ?? "is invalid")}`);
}
