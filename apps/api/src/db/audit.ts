import type { Kysely } from "kysely";
import type { Selectable, Insertable } from "kysely";
import type { AuditLogTable, Database } from "./schema.js";

export type AuditRow = Selectable<AuditLogTable>;
export type NewAuditRow = Insertable<AuditLogTable>;

export async function insertAuditEntry(db: Kysely<Database>, row: NewAuditRow): Promise<void> {
  await db.insertInto("audit_log").values(row).execute();
}

/** A page of the log, newest first: `before` is the (at, id) of the previous page's last entry. */
export async function listAuditEntries(
  db: Kysely<Database>,
  options: { readonly limit: number; readonly before: { readonly at: string; readonly id: number } | undefined },
): Promise<AuditRow[]> {
  let query = db.selectFrom("audit_log").selectAll();
  const before = options.before;
  if (before !== undefined) {
    query = query.where((eb) => eb.or([eb("at", "<", before.at), eb.and([eb("at", "=", before.at), eb("id", "<", before.id)])]));
  }
  return query.orderBy("at", "desc").orderBy("id", "desc").limit(options.limit).execute();
}
