import { z } from "zod";
import type { ResultError } from "../../result.js";
import { V3TimeSchema } from "./payloads.js";
import { invalidField, readOptionalRecord, readOptionalText, readText, readTime, refuseField, type FieldRecord } from "./read-fields.js";

/** Longest ciphertext accepted in a resource (twice the default notify size limit). */
export const V3_MAX_CIPHERTEXT_CHARS = 128 * 1024;
const EVENT_TYPE = /^[A-Z0-9_]+(?:\.[A-Z0-9_]+)+$/;
const ALGORITHM = "AEAD_AES_256_GCM";

/** The notify envelope as a schema: the reference readV3NotifyEnvelope agrees with (see read-fields.test.ts). */
export const V3NotifyEnvelopeSchema = z.object({
  id: z.string().min(1).max(64),
  create_time: V3TimeSchema,
  resource_type: z.string().max(64),
  event_type: z.string().max(64).regex(EVENT_TYPE, "expected an event type like TRANSACTION.SUCCESS"),
  summary: z.string().max(256).optional(),
  resource: z
    .object({
      original_type: z.string().max(64),
      algorithm: z.literal(ALGORITHM),
      ciphertext: z.string().max(V3_MAX_CIPHERTEXT_CHARS),
      associated_data: z.string().max(64),
      nonce: z.string().max(64),
    })
    .optional(),
});

/** A notify envelope, camelCased: who, when, which event, and the encrypted resource (when the event carries one). */
export interface V3NotifyEnvelope {
  readonly id: string;
  readonly createTime: Date;
  readonly resourceType: string;
  readonly eventType: string;
  readonly summary: string | undefined;
  readonly resource: { readonly originalType: string; readonly ciphertext: string; readonly associatedData: string; readonly nonce: string } | undefined;
}

function readEnvelope(json: FieldRecord): V3NotifyEnvelope {
  const id = readText(json.id, 64, "id");
  if (id.length === 0) refuseField("id", "must not be empty");
  const createTime = readTime(json.create_time, "create_time");
  const resourceType = readText(json.resource_type, 64, "resource_type");
  const eventType = readText(json.event_type, 64, "event_type");
  if (!EVENT_TYPE.test(eventType)) refuseField("event_type", "expected an event type like TRANSACTION.SUCCESS");
  const summary = readOptionalText(json.summary, 256, "summary");
  const wire = readOptionalRecord(json.resource, "resource");
  if (wire === undefined) return { id, createTime, resourceType, eventType, summary, resource: undefined };
  const originalType = readText(wire.original_type, 64, "resource.original_type");
  if (wire.algorithm !== ALGORITHM) refuseField("resource.algorithm", `expected "${ALGORITHM}"`);
  const ciphertext = readText(wire.ciphertext, V3_MAX_CIPHERTEXT_CHARS, "resource.ciphertext");
  const associatedData = readText(wire.associated_data, 64, "resource.associated_data");
  const nonce = readText(wire.nonce, 64, "resource.nonce");
  return { id, createTime, resourceType, eventType, summary, resource: { originalType, ciphertext, associatedData, nonce } };
}

/** A parsed notify body to its envelope: the same checks as V3NotifyEnvelopeSchema, hand-written for the hot path. */
export function readV3NotifyEnvelope(
  json: unknown,
): { readonly ok: true; readonly value: V3NotifyEnvelope } | { readonly ok: false; readonly error: ResultError<"INVALID_FIELD"> } {
  try {
    if (typeof json !== "object" || json === null || Array.isArray(json)) refuseField("", "expected object");
    return { ok: true, value: readEnvelope(json as FieldRecord) };
  } catch (error) {
    return invalidField("Notify", error);
  }
}
