import type { AdminActor, AuditEntry, AuditLogQuery, AuditLogResponse } from "@pay/core/contract";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { isoAt } from "../../clock.js";
import { insertAuditEntry, listAuditEntries, type AuditRow } from "../../db/audit.js";
import type { Database } from "../../db/schema.js";
import { failed, succeeded, type Outcome } from "../outcomes.js";

/** A scalar the audit detail keeps. */
export type AuditScalar = string | number | boolean | null;

/** One audited call, as the router describes it. */
export interface AuditRecord {
  readonly at: number;
  /** Who: the staff member or ADMIN_TOKEN; for a sign-in, the account named (id null when it does not exist). */
  readonly actor: { readonly kind: "staff" | "token"; readonly id: string | null; readonly username: string | null };
  readonly action: string;
  readonly target: string | null;
  readonly idempotencyKey: string | null;
  /** `ok` or the ApiError code. */
  readonly outcome: string;
  readonly detail: Readonly<Record<string, AuditScalar>>;
  readonly ip: string | null;
}

/** The audit actor of an admin caller. */
export function auditActorOf(actor: AdminActor): AuditRecord["actor"] {
  return actor.kind === "staff" ? { kind: "staff", id: actor.id, username: actor.username } : { kind: "token", id: null, username: null };
}

/**
 * Writes an entry. A failure is logged and swallowed: the action it describes has happened (a refund committed
 * must not become a 500 because its audit line could not be written).
 */
export async function recordAudit(db: Kysely<Database>, logger: Logger, record: AuditRecord): Promise<void> {
  try {
    await insertAuditEntry(db, {
      at: isoAt(record.at),
      actor_kind: record.actor.kind,
      actor_id: record.actor.id,
      actor_name: record.actor.username,
      action: record.action,
      target: record.target,
      idempotency_key: record.idempotencyKey,
      outcome: record.outcome,
      detail: JSON.stringify(record.detail),
      ip: record.ip,
    });
  } catch (error) {
    logger.error(
      { err: error, action: record.action, target: record.target, outcome: record.outcome, idempotencyKey: record.idempotencyKey },
      "audit log: the entry could not be written",
    );
  }
}

function cursorOf(row: AuditRow): string {
  return Buffer.from(JSON.stringify([row.at, row.id])).toString("base64url");
}

function parseCursor(cursor: string): { at: string; id: number } | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [at, id] = value as [unknown, unknown];
    if (typeof at !== "string" || Number.isNaN(Date.parse(at)) || typeof id !== "number" || !Number.isSafeInteger(id)) return undefined;
    return { at, id };
  } catch {
    return undefined;
  }
}

function detailOf(text: string): AuditEntry["detail"] {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
    const detail: Record<string, AuditScalar> = {};
    for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
      if (field === null || typeof field === "string" || typeof field === "number" || typeof field === "boolean") detail[key] = field;
    }
    return detail;
  } catch {
    return {};
  }
}

function entryOf(row: AuditRow): AuditEntry {
  return {
    id: String(row.id),
    at: row.at,
    actor: { kind: row.actor_kind, id: row.actor_id, username: row.actor_name },
    action: row.action,
    target: row.target,
    idempotencyKey: row.idempotency_key,
    outcome: row.outcome,
    detail: detailOf(row.detail),
    ip: row.ip,
  };
}

/** The log, newest first, a page at a time. */
export async function listAuditLog(db: Kysely<Database>, query: AuditLogQuery): Promise<Outcome<AuditLogResponse>> {
  const before = query.cursor === undefined ? undefined : parseCursor(query.cursor);
  if (query.cursor !== undefined && before === undefined) return failed({ kind: "invalid", field: "cursor", message: "cursor is not one this API gave out." });
  const rows = await listAuditEntries(db, { limit: query.limit + 1, before });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return succeeded({ entries: page.map(entryOf), nextCursor: rows.length > query.limit && last !== undefined ? cursorOf(last) : null });
}
