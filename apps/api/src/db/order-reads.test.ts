import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASES, openTestDatabase, type TestDatabase } from "../test-support/databases.js";
import { createOrderLoader, findOrderById, findOrderOfUser } from "./order-reads.js";

const NOW = "2025-01-02T03:04:05.000Z";

describe.each(DATABASES)("precompiled order reads on %s", (dialect) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(dialect);
    for (const user of ["alice", "bob"]) await database.db.insertInto("users").values({ id: user, openid: `openid-${user}`, created_at: NOW }).execute();
    for (const [id, user, fee] of [["order-0001", "alice", 100], ["order-0002", "bob", 250]] as const) {
      await database.db
        .insertInto("orders")
        .values({
          id, user_id: user, status: "pending", total_fee: fee, fee_type: "CNY", items: "[]", body: "Shop-Tea", idempotency_key: null,
          request_hash: null, appid: "wx0000000000000001", mch_id: "1900000001", sub_appid: null, sub_mch_id: null, openid: "o",
          sub_openid: null, sign_type: "MD5", spbill_create_ip: "127.0.0.1", notify_url: "https://example.com/n", time_start: "20250102110405",
          time_expire: "20250102113405", prepay_id: null, prepay_expires_at: null, transaction_id: null, paid_at: null, closed_at: null,
          expires_at: NOW, last_queried_at: null, created_at: NOW, updated_at: NOW,
        })
        .execute();
    }
  });
  afterAll(() => database.close());

  it("answer exactly what the query builder answers, for each call's own parameters", async () => {
    for (const id of ["order-0001", "order-0002"]) {
      const built = await database.db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
      expect(await findOrderById(database.db, id)).toEqual(built);
      expect(await findOrderOfUser(database.db, id, built.user_id)).toEqual(built);
    }
    expect((await findOrderById(database.db, "order-0002"))?.total_fee).toBe(250);
  });

  it("find nothing for an unknown id or another user's order", async () => {
    expect(await findOrderById(database.db, "order-9999")).toBeUndefined();
    expect(await findOrderOfUser(database.db, "order-0001", "bob")).toBeUndefined();
    expect(await findOrderOfUser(database.db, "order-0002", "alice")).toBeUndefined();
  });

  it("work inside a transaction and see its uncommitted writes", async () => {
    await database.db.transaction().execute(async (trx) => {
      await trx.updateTable("orders").set({ status: "closed" }).where("id", "=", "order-0001").execute();
      expect((await findOrderById(trx, "order-0001"))?.status).toBe("closed");
      throw new Error("roll back");
    }).catch((error: unknown) => expect(error).toEqual(new Error("roll back")));
    expect((await findOrderById(database.db, "order-0001"))?.status).toBe("pending");
  });

  it("the notify path's loader answers each of many concurrent reads (repeats and unknown ids included) with its own row", async () => {
    const load = createOrderLoader(database.db, dialect);
    const ids = ["order-0002", "order-0001", "order-9999", "order-0002", "order-0001"];
    const rows = await Promise.all(ids.map((id) => load(id)));
    expect(rows.map((row) => row?.id)).toEqual(["order-0002", "order-0001", undefined, "order-0002", "order-0001"]);
    expect(rows[0]).toEqual(await findOrderById(database.db, "order-0002"));
  });
});
