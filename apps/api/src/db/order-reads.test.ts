import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASES, openTestDatabase, type TestDatabase } from "../../test/support/databases.js";
import { FIXTURE_NOW as NOW, pendingOrderRow } from "../../test/support/rows.js";
import { createOrderLoader, readOrder } from "./order-reads.js";

describe.each(DATABASES)("precompiled order reads on %s", (dialect) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(dialect);
    for (const user of ["alice", "bob"])
      await database.db
        .insertInto("users")
        .values({ id: user, openid: `openid-${user}`, created_at: NOW })
        .execute();
    for (const [id, user, fee] of [
      ["order-0001", "alice", 100],
      ["order-0002", "bob", 250],
    ] as const) {
      await database.db
        .insertInto("orders")
        .values(pendingOrderRow(id, user, { total_fee: fee }))
        .execute();
    }
  });
  afterAll(() => database.close());

  it("answer exactly what the query builder answers, for each call's own parameters", async () => {
    for (const id of ["order-0001", "order-0002"]) {
      const built = await database.db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
      expect(await readOrder(database.db, id)).toEqual(built);
    }
    expect((await readOrder(database.db, "order-0002")).total_fee).toBe(250);
  });

  it("refuse an unknown id where the order must exist", async () => {
    await expect(readOrder(database.db, "order-9999")).rejects.toThrow("No order order-9999 in the database.");
  });

  it("work inside a transaction and see its uncommitted writes", async () => {
    await database.db
      .transaction()
      .execute(async (trx) => {
        await trx.updateTable("orders").set({ status: "closed" }).where("id", "=", "order-0001").execute();
        expect((await readOrder(trx, "order-0001")).status).toBe("closed");
        throw new Error("roll back");
      })
      .catch((error: unknown) => expect(error).toEqual(new Error("roll back")));
    expect((await readOrder(database.db, "order-0001")).status).toBe("pending");
  });

  it("the notify path's loader answers each of many concurrent reads (repeats and unknown ids included) with its own row", async () => {
    const load = createOrderLoader(database.db, dialect);
    const ids = ["order-0002", "order-0001", "order-9999", "order-0002", "order-0001"];
    const rows = await Promise.all(ids.map((id) => load(id)));
    expect(rows.map((row) => row?.id)).toEqual(["order-0002", "order-0001", undefined, "order-0002", "order-0001"]);
    expect(rows[0]).toEqual(await readOrder(database.db, "order-0002"));
  });
});
