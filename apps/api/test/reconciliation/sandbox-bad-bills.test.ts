import { RECONCILIATION_CLASSES, type ReconciliationErrorCode } from "@pay/core/contract";
import type { BillFaultKind } from "@pay/sandbox/control";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileDay } from "../../src/services/reconciliation/engine.js";
import { eventually } from "../support/api-harness.js";
import { DATABASES } from "../support/databases.js";
import { storedEvents } from "../support/events.js";
import { billDate, payAtSandbox, placeOrder, startReconciliationHarness, type ReconciliationHarness } from "./sandbox-support.js";

const COMBOS = DATABASES.flatMap((kind) => (["v2", "v3"] as const).map((protocol) => [kind, protocol] as const));

/** Each bill-file fault and the code the run fails with; hash_mismatch is v3's (a v2 bill has no hash). */
const FAULTS: ReadonlyArray<readonly [BillFaultKind, ReconciliationErrorCode, "v2" | "v3" | "both"]> = [
  ["truncated", "BILL_MALFORMED", "both"],
  ["garbage", "BILL_MALFORMED", "both"],
  ["foreign_merchant", "BILL_WRONG_MERCHANT", "both"],
  ["other_day", "BILL_WRONG_DAY", "both"],
  ["hash_mismatch", "BILL_HASH_MISMATCH", "v3"],
];

describe.each(COMBOS)("bad bills and days without one, from the sandbox, on %s, %s", (kind, protocol) => {
  let h: ReconciliationHarness;
  beforeAll(async () => {
    h = await startReconciliationHarness(kind, protocol);
  });
  afterAll(async () => {
    await h.close();
  });

  const orderRow = (id: string) => h.database.db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirstOrThrow();

  it("fails the run on each bad bill with its code and changes nothing; the whole bill then recovers the day", { timeout: 90_000 }, async () => {
    const day = billDate(0);
    const token = await h.signIn("carol");
    const heard = await placeOrder(h, token);
    const silent = await placeOrder(h, token);
    await payAtSandbox(h, heard);
    await payAtSandbox(h, silent, false);
    await eventually(async () => (await orderRow(heard.order.id)).status === "paid");
    await h.moveTo(1, 10.5);

    for (const [fault, code, only] of FAULTS) {
      if (only !== "both" && only !== protocol) continue;
      await h.control.addBillFault({ mch_id: h.merchant.mchId, bill_date: day, fault });
      const run = await reconcileDay(h.services, day, "admin");
      expect({ fault, state: run.state, code: run.error?.code }).toEqual({ fault, state: "failed", code });
      expect(run.error?.message).not.toBe("");
      // No success yet: no totals, no result; nothing stored, nothing repaired.
      expect(run).toMatchObject({ totals: null, resultAt: null });
      expect(await h.database.db.selectFrom("reconciliation_items").selectAll().where("bill_date", "=", day).execute()).toEqual([]);
      expect(await orderRow(silent.order.id)).toMatchObject({ status: "pending", transaction_id: null, paid_at: null });
      expect(await storedEvents(h.database.db, silent.order.id)).toEqual([]);
      // The download took the fault.
      expect((await h.control.listBillFaults()).bill_faults).toEqual([]);
    }
    // The staging rows of the failed attempts are gone.
    expect(await h.database.db.selectFrom("reconciliation_bill_rows").selectAll().where("bill_date", "=", day).execute()).toEqual([]);

    const run = await reconcileDay(h.services, day, "admin");
    expect(run, JSON.stringify(run.error)).toMatchObject({ state: "succeeded", bill: "file", error: null });
    expect(run.differences.paid_not_recorded).toBe(1);
    expect(await orderRow(silent.order.id)).toMatchObject({ status: "paid" });
    expect((await storedEvents(h.database.db, silent.order.id)).map((e) => e.type)).toEqual(["order.paid"]);
  });

  it("runs a day without a bill as a clean, empty run", { timeout: 60_000 }, async () => {
    // Nothing happens on the third day.
    const day = billDate(2);
    await h.moveTo(3, 10.5);
    const run = await reconcileDay(h.services, day, "admin");
    expect(run, JSON.stringify(run.error)).toMatchObject({ date: day, state: "succeeded", bill: "none", error: null });
    expect(run.differences).toEqual(Object.fromEntries(RECONCILIATION_CLASSES.map((c) => [c, 0])));
    expect(run.totals).toMatchObject({
      bill: { paymentCount: 0, paymentAmount: 0, refundCount: 0, refundAmount: 0 },
      ours: { paymentCount: 0, paymentAmount: 0, refundCount: 0, refundAmount: 0 },
      summary: null,
    });
    expect(await h.database.db.selectFrom("reconciliation_items").selectAll().where("bill_date", "=", day).execute()).toEqual([]);
  });
});
