import type { Kysely } from "kysely";
import { isUniqueViolation } from "./errors.js";
import type { Database } from "./schema.js";

/** The id of the user with this openid, if one signed in before. */
export async function findUserIdByOpenid(db: Kysely<Database>, openid: string): Promise<string | undefined> {
  const row = await db.selectFrom("users").select("id").where("openid", "=", openid).executeTakeFirst();
  return row?.id;
}

/** The openid of a user, if the user exists. */
export async function findUserOpenid(db: Kysely<Database>, userId: string): Promise<string | undefined> {
  const row = await db.selectFrom("users").select("openid").where("id", "=", userId).executeTakeFirst();
  return row?.openid;
}

/**
 * The user of an openid, created with `newId` on first sign-in. When the same user signs in twice at
 * once, the unique openid makes one insert fail, and that request answers with the other's row.
 */
export async function ensureUser(db: Kysely<Database>, openid: string, newId: string, now: string): Promise<string> {
  const existing = await findUserIdByOpenid(db, openid);
  if (existing !== undefined) return existing;
  try {
    const row = await db.insertInto("users").values({ id: newId, openid, created_at: now }).returning("id").executeTakeFirstOrThrow();
    return row.id;
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const raced = await findUserIdByOpenid(db, openid);
    if (raced === undefined) throw error;
    return raced;
  }
}
