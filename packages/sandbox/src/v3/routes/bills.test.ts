import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import {
  buildV3BillDownload,
  parseBill,
  buildV3FundFlowBill,
  buildV3TradeBill,
  parseV3Answer,
  parseV3FundFlowBill,
  parseV3TradeBill,
  V3BillAnswerSchema,
  type Bill,
  type V3BillAnswer,
  type V3FundFlowBill,
  type V3FundFlowBillRequest,
  type V3TradeBillRequest,
} from "@pay/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManualClock, type ManualClock } from "../../clock.js";
import { newRefundId } from "../../ids.js";
import { startSandbox, type RunningSandbox } from "../../server.js";
import { settleRefund } from "../../state/payments.js";
import type { SandboxOrder, SandboxRefund } from "../../state/types.js";
import type { SandboxControlClient } from "../../control/client.js";
import { callGateway, controlOf, orderFields, pay, placeOrder } from "../../../test/support/harness.js";
import { seedPaidV3Order, startV3Receiver, V3_DIRECT, V3_GLOBAL, V3_MIGRATING, V3_PARTNER, v3Client, type V3Receiver, type V3TestClient } from "../../../test/support/v3.js";
import { V3_BILL_URL_TTL_MS } from "./bills.js";

const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** 2026-03-10 00:00 Beijing: the bill day of the main suite. */
const BILL_DAY_START = Date.UTC(2026, 2, 9, 16, 0, 0);
const BILL_DATE = "2026-03-10";

/** Puts a refund of `amount` on a paid order straight into the store, as the refund endpoint does; settles it to SUCCESS unless told not to. */
function seedRefund(sandbox: RunningSandbox, order: SandboxOrder, outRefundNo: string, amount: number, settle = true): SandboxRefund {
  const now = sandbox.context.clock.now();
  const refund: SandboxRefund = {
    protocol: "v3",
    mchId: order.mchId,
    subMchId: order.subMchId,
    outTradeNo: order.outTradeNo,
    outRefundNo,
    refundId: newRefundId(now),
    refundFee: amount,
    totalFee: order.totalFee,
    feeType: order.feeType,
    cashRefundFee: amount,
    notifyUrl: undefined,
    refundDesc: undefined,
    refundAccount: "AVAILABLE",
    createdAt: now,
    status: "PROCESSING",
    successAt: undefined,
    settleTimer: undefined,
  };
  sandbox.context.store.addRefund(order, refund);
  order.tradeState = "REFUND";
  if (settle) settleRefund(sandbox.context, refund, "SUCCESS");
  return refund;
}

interface Downloaded {
  readonly status: number;
  readonly headers: Headers;
  readonly bytes: Buffer;
}

/** A signed GET of `target` (the download_url's path and query), reading the answer as bytes. */
async function signedGet(sandbox: RunningSandbox, client: V3TestClient, target: string, options: { signTarget?: string; authorization?: boolean } = {}): Promise<Downloaded> {
  const signed = client.signer.signRequest({ method: "GET", urlPath: options.signTarget ?? target, body: "", now: sandbox.context.clock.now() });
  const headers: Record<string, string> = { accept: "*/*", "user-agent": "pay-sandbox-v3-tests" };
  if (options.authorization !== false) headers.authorization = signed.authorization;
  const response = await fetch(`${sandbox.url}${target}`, { headers });
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

/** Applies for a bill: the answer must be 200, signed, and a well-formed bill answer on the sandbox's own origin. */
async function applyFor(sandbox: RunningSandbox, client: V3TestClient, target: string): Promise<V3BillAnswer> {
  const answer = await client.send({ target });
  expect(answer.status, answer.text).toBe(200);
  expect(client.verify(answer).ok).toBe(true);
  const parsed = parseV3Answer(V3BillAnswerSchema, answer.text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  expect(new URL(parsed.value.downloadUrl).origin).toBe(sandbox.url);
  return parsed.value;
}

function downloadTarget(sandbox: RunningSandbox, answer: V3BillAnswer): string {
  const request = buildV3BillDownload(answer, { allowedOrigins: [sandbox.url] });
  if (!request.ok) throw new Error(request.error.message);
  return request.value.path;
}

/** Applies for a trade bill, downloads it, checks the SHA1 and parses it with core's v3 parser. */
async function tradeBill(sandbox: RunningSandbox, client: V3TestClient, request: V3TradeBillRequest): Promise<{ bill: Bill; csv: Buffer }> {
  const answer = await applyFor(sandbox, client, buildV3TradeBill(request).path);
  const file = await signedGet(sandbox, client, downloadTarget(sandbox, answer));
  expect(file.status).toBe(200);
  expect(file.headers.get("wechatpay-signature")).toBeNull();
  expect(file.headers.get("content-type")).toMatch(request.tarType === "GZIP" ? /^application\/x-gzip/ : /^text\/plain/);
  const csv = request.tarType === "GZIP" ? gunzipSync(file.bytes) : file.bytes;
  expect(createHash("sha1").update(csv).digest("hex")).toBe(answer.hashValue);
  const parsed = parseV3TradeBill(file.bytes, { hashValue: answer.hashValue, tarType: request.tarType });
  if (!parsed.ok) throw new Error(parsed.error.message);
  return { bill: parsed.value, csv };
}

async function fundFlowBill(sandbox: RunningSandbox, client: V3TestClient, request: V3FundFlowBillRequest): Promise<V3FundFlowBill> {
  const answer = await applyFor(sandbox, client, buildV3FundFlowBill(request).path);
  const file = await signedGet(sandbox, client, downloadTarget(sandbox, answer));
  expect(file.status).toBe(200);
  const parsed = parseV3FundFlowBill(file.bytes, { hashValue: answer.hashValue, tarType: request.tarType });
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

/** A refusal: exact status and code; signed ones verify. */
async function expectRefusal(client: V3TestClient, target: string, status: number, code: string, signed: boolean): Promise<void> {
  const answer = await client.send({ target });
  expect({ status: answer.status, code: (answer.json as { code?: string } | undefined)?.code }, answer.text).toEqual({ status, code });
  if (signed) expect(client.verify(answer).ok).toBe(true);
  else expect(answer.headers.get("wechatpay-signature")).toBeNull();
}

/** The rows' amounts added up, to compare with the summary to the minor unit. */
function rowTotals(bill: Bill): { count: number; settlement: number; refund: number; requested: number; fee: number } {
  const sum = (pick: (r: Bill["rows"][number]) => number | undefined): number => bill.rows.reduce((s, r) => s + (pick(r) ?? 0), 0);
  return {
    count: bill.rows.length,
    settlement: sum((r) => r.settlementTotalFee?.amount),
    refund: sum((r) => r.refundFee?.amount),
    requested: sum((r) => r.requestedRefundFee?.amount),
    fee: sum((r) => r.serviceFee?.amount),
  };
}

describe("v3 bills: tradebill, fundflowbill and the file download", () => {
  let sandbox: RunningSandbox;
  let clock: ManualClock;
  let receiver: V3Receiver;
  let direct: V3TestClient;
  let partner: V3TestClient;
  /** What the direct merchant's bill of BILL_DATE must hold, in time order. */
  const expected: { state: "SUCCESS" | "REFUND"; outTradeNo: string; outRefundNo?: string; amount: number }[] = [];
  let migratingV2OutTradeNo = "";

  beforeAll(async () => {
    // 23:00 Beijing on the day before the bill day.
    clock = createManualClock(BILL_DAY_START - HOUR);
    sandbox = await startSandbox({ merchants: [V3_DIRECT, V3_PARTNER, V3_MIGRATING, V3_GLOBAL], clock, allowHttpNotifyUrl: true, requireClientCert: false, refundSettleMs: null });
    receiver = await startV3Receiver();
    direct = v3Client(sandbox, V3_DIRECT.mchId);
    partner = v3Client(sandbox, V3_PARTNER.mchId);
    const paid = (outTradeNo: string, total: number, who: { mchId: string; subMchId?: string } = V3_DIRECT): SandboxOrder =>
      seedPaidV3Order(sandbox, { outTradeNo, total, notifyUrl: receiver.url, ...who });

    const before = paid("BILL-BEFORE-1", 999); // the day before: not in the bill
    await clock.advance(HOUR); // 00:00:00.000 of the bill day: in it
    const first = paid("BILL-DAY-1", 1234);
    expected.push({ state: "SUCCESS", outTradeNo: "BILL-DAY-1", amount: 1234 });
    await clock.advance(5 * HOUR);
    const small = paid("BILL-DAY-2", 1);
    expected.push({ state: "SUCCESS", outTradeNo: "BILL-DAY-2", amount: 1 });
    await clock.advance(HOUR);
    seedRefund(sandbox, before, "BILL-R-BEFORE", 100); // a refund today of yesterday's payment: in the bill
    expected.push({ state: "REFUND", outTradeNo: "BILL-BEFORE-1", outRefundNo: "BILL-R-BEFORE", amount: 100 });
    await clock.advance(HOUR);
    seedRefund(sandbox, first, "BILL-R-1", 234);
    expected.push({ state: "REFUND", outTradeNo: "BILL-DAY-1", outRefundNo: "BILL-R-1", amount: 234 });
    seedRefund(sandbox, small, "BILL-R-PENDING", 1, false); // still PROCESSING: not in the bill
    paid("BILL-SUB-1", 500, { mchId: V3_PARTNER.mchId, subMchId: V3_PARTNER.subMchId });
    paid("BILL-MIG-V3", 700, V3_MIGRATING);
    const v2Order = orderFields({ appid: V3_MIGRATING.appId, mch_id: V3_MIGRATING.mchId, total_fee: 300 });
    migratingV2OutTradeNo = String(v2Order.out_trade_no);
    await pay(sandbox, await placeOrder(sandbox, v2Order, V3_MIGRATING.key));
    await clock.advance(BILL_DAY_START + DAY - 1 - clock.now()); // 23:59:59.999: the last instant of the day
    paid("BILL-DAY-LAST", 50);
    expected.push({ state: "SUCCESS", outTradeNo: "BILL-DAY-LAST", amount: 50 });
    await clock.advance(1); // 00:00 the next day: not in the bill
    const after = paid("BILL-AFTER-1", 4000);
    seedRefund(sandbox, after, "BILL-R-AFTER", 4000);
    await clock.advance(11 * HOUR); // 11:00 the next day: both bills are ready
  });
  afterAll(async () => {
    await sandbox.stop();
    await receiver.close();
  });

  it("serves the day's payments and successful refunds, plain and gzip, rows and summary agreeing to the minor unit", async () => {
    const { bill, csv } = await tradeBill(sandbox, direct, { billDate: BILL_DATE });
    expect(
      bill.rows.map((r) => ({ state: r.tradeState, outTradeNo: r.outTradeNo, outRefundNo: r.outRefundNo, amount: (r.tradeState === "REFUND" ? r.refundFee : r.totalFee)?.amount })),
    ).toEqual(
      // A payment line has "0" in the refund number columns, as the real bill does.
      expected.map((e) => ({ state: e.state, outTradeNo: e.outTradeNo, outRefundNo: e.outRefundNo ?? "0", amount: e.amount })),
    );
    const payments = expected.filter((e) => e.state === "SUCCESS").reduce((s, e) => s + e.amount, 0);
    const refunds = expected.filter((e) => e.state === "REFUND").reduce((s, e) => s + e.amount, 0);
    expect(payments).toBe(1285);
    expect(refunds).toBe(334);
    const totals = rowTotals(bill);
    expect(bill.summary).toMatchObject({
      tradeCount: expected.length,
      currency: "CNY",
      settlementTotalFee: { amount: payments, currency: "CNY" },
      totalFee: { amount: payments, currency: "CNY" },
      refundFee: { amount: refunds, currency: "CNY" },
      requestedRefundFee: { amount: refunds, currency: "CNY" },
      serviceFee: { amount: totals.fee, currency: "CNY" },
    });
    expect(totals).toMatchObject({ count: expected.length, settlement: payments, refund: refunds, requested: refunds });
    // Each row names the store's ids: the merchant can match transaction_id and refund_id.
    const store = sandbox.context.store;
    for (const row of bill.rows) {
      const order = store.findOrder(V3_DIRECT.mchId, undefined, row.outTradeNo ?? "");
      expect(row).toMatchObject({ mchId: V3_DIRECT.mchId, subMchId: "0", appid: V3_DIRECT.appId, transactionId: order?.transactionId, tradeType: "JSAPI" });
      if (row.tradeState === "REFUND") expect(row.refundId).toBe(store.findRefund(V3_DIRECT.mchId, undefined, row.outRefundNo ?? "")?.refundId);
    }
    expect(csv.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));

    const gzipped = await tradeBill(sandbox, direct, { billDate: BILL_DATE, tarType: "GZIP" });
    expect(gzipped.csv.equals(csv)).toBe(true);
  });

  it("filters by bill_type: SUCCESS has the payments only, REFUND the refunds only", async () => {
    const success = await tradeBill(sandbox, direct, { billDate: BILL_DATE, billType: "SUCCESS" });
    expect(success.bill.rows.map((r) => r.outTradeNo)).toEqual(expected.filter((e) => e.state === "SUCCESS").map((e) => e.outTradeNo));
    expect(success.bill.summary).toMatchObject({ tradeCount: 3, totalFee: { amount: 1285 }, refundFee: { amount: 0 } });
    const refund = await tradeBill(sandbox, direct, { billDate: BILL_DATE, billType: "REFUND", tarType: "GZIP" });
    expect(refund.bill.rows.map((r) => r.outRefundNo)).toEqual(["BILL-R-BEFORE", "BILL-R-1"]);
    expect(refund.bill.summary).toMatchObject({ tradeCount: 2, settlementTotalFee: { amount: 0 }, refundFee: { amount: 334 } });
  });

  it("includes the days around only on their own bill", async () => {
    const dayBefore = await tradeBill(sandbox, direct, { billDate: "2026-03-09" });
    expect(dayBefore.bill.rows.map((r) => r.outTradeNo)).toEqual(["BILL-BEFORE-1"]);
    expect(dayBefore.bill.summary).toMatchObject({ tradeCount: 1, totalFee: { amount: 999 }, refundFee: { amount: 0 } });
    // The next day is still today: the gateway is still making that bill.
    await expectRefusal(direct, buildV3TradeBill({ billDate: "2026-03-11" }).path, 400, "STATEMENT_CREATING", true);
  });

  it("bills a merchant's v2 and v3 orders together: the v3 file is the v2 downloadbill byte for byte", async () => {
    const migrating = v3Client(sandbox, V3_MIGRATING.mchId);
    const { bill, csv } = await tradeBill(sandbox, migrating, { billDate: BILL_DATE });
    expect(bill.rows.map((r) => r.outTradeNo).sort()).toEqual(["BILL-MIG-V3", migratingV2OutTradeNo].sort());
    expect(bill.summary).toMatchObject({ tradeCount: 2, totalFee: { amount: 1000, currency: "CNY" } });
    const v2 = await callGateway(
      sandbox,
      "/pay/downloadbill",
      { appid: V3_MIGRATING.appId, mch_id: V3_MIGRATING.mchId, bill_date: "20260310", bill_type: "ALL" },
      { key: V3_MIGRATING.key },
    );
    expect(v2.bytes.equals(csv)).toBe(true);
  });

  it("bills a service provider's sub-merchants, all or one by sub_mchid; another sub_mchid is 403 NO_AUTH", async () => {
    const all = await tradeBill(sandbox, partner, { billDate: BILL_DATE });
    expect(all.bill.rows).toHaveLength(1);
    expect(all.bill.rows[0]).toMatchObject({ outTradeNo: "BILL-SUB-1", mchId: V3_PARTNER.mchId, subMchId: V3_PARTNER.subMchId, totalFee: { amount: 500 } });
    const one = await tradeBill(sandbox, partner, { billDate: BILL_DATE, subMchid: V3_PARTNER.subMchId });
    expect(one.csv.equals(all.csv)).toBe(true);
    await expectRefusal(partner, buildV3TradeBill({ billDate: BILL_DATE, subMchid: "1900399999" }).path, 403, "NO_AUTH", true);
    await expectRefusal(direct, buildV3TradeBill({ billDate: BILL_DATE, subMchid: V3_PARTNER.subMchId }).path, 403, "NO_AUTH", true);
  });

  it("serves the basic account's fund flow: payments in, refunds out, a running balance, totals agreeing with the rows", async () => {
    const bill = await fundFlowBill(sandbox, direct, { billDate: BILL_DATE, tarType: "GZIP" });
    expect(bill.rows.map((r) => [r.flowType, r.voucherNo, r.amount?.amount, r.balance?.amount])).toEqual([
      ["收入", "BILL-DAY-1", 1234, 999 + 1234],
      ["收入", "BILL-DAY-2", 1, 2234],
      ["支出", "BILL-R-BEFORE", 100, 2134],
      ["支出", "BILL-R-1", 234, 1900],
      ["收入", "BILL-DAY-LAST", 50, 1950],
    ]);
    const income = bill.rows.filter((r) => r.flowType === "收入").reduce((s, r) => s + (r.amount?.amount ?? 0), 0);
    const expense = bill.rows.filter((r) => r.flowType === "支出").reduce((s, r) => s + (r.amount?.amount ?? 0), 0);
    expect(bill.summary).toMatchObject({ flowCount: 5, incomeCount: 3, income: { amount: income }, expenseCount: 2, expense: { amount: expense } });
    expect([income, expense]).toEqual([1285, 334]);
    const plain = await fundFlowBill(sandbox, direct, { billDate: BILL_DATE, accountType: "BASIC" });
    expect(plain.rows).toEqual(bill.rows);
  });

  it("answers 400 NO_STATEMENT_EXIST (signed) when there is nothing to bill", async () => {
    await expectRefusal(direct, buildV3TradeBill({ billDate: "2026-03-08" }).path, 400, "NO_STATEMENT_EXIST", true);
    await expectRefusal(direct, buildV3TradeBill({ billDate: BILL_DATE, billType: "RECHARGE_REFUND" }).path, 400, "NO_STATEMENT_EXIST", true);
    await expectRefusal(direct, buildV3TradeBill({ billDate: BILL_DATE, billType: "ALL_SPECIAL" }).path, 400, "NO_STATEMENT_EXIST", true);
    await expectRefusal(direct, buildV3FundFlowBill({ billDate: BILL_DATE, accountType: "OPERATION" }).path, 400, "NO_STATEMENT_EXIST", true);
    await expectRefusal(direct, buildV3FundFlowBill({ billDate: BILL_DATE, accountType: "FEES" }).path, 400, "NO_STATEMENT_EXIST", true);
    // A sub-merchant's money settles into its own account, not the service provider's.
    await expectRefusal(partner, buildV3FundFlowBill({ billDate: BILL_DATE }).path, 400, "NO_STATEMENT_EXIST", true);
  });

  it.each([
    ["no bill_date", "/v3/bill/tradebill"],
    ["a compact bill_date", "/v3/bill/tradebill?bill_date=20260310"],
    ["30 February", "/v3/bill/tradebill?bill_date=2026-02-30"],
    ["an unknown bill_type", "/v3/bill/tradebill?bill_date=2026-03-10&bill_type=EVERYTHING"],
    ["tar_type ZIP", "/v3/bill/tradebill?bill_date=2026-03-10&tar_type=ZIP"],
    ["an undocumented parameter", "/v3/bill/tradebill?bill_date=2026-03-10&mchid=1900300001"],
    ["bill_date twice", "/v3/bill/tradebill?bill_date=2026-03-10&bill_date=2026-03-09"],
    ["an unknown account_type", "/v3/bill/fundflowbill?bill_date=2026-03-10&account_type=ALL"],
    ["sub_mchid on the fund-flow bill", "/v3/bill/fundflowbill?bill_date=2026-03-10&sub_mchid=1900300011"],
  ])("refuses %s with 400 PARAM_ERROR", async (_, target) => {
    await expectRefusal(direct, target, 400, "PARAM_ERROR", false);
  });

  it("leaves Global merchants to the Global statements (not simulated): 400 INVALID_REQUEST", async () => {
    await expectRefusal(v3Client(sandbox, V3_GLOBAL.mchId), buildV3TradeBill({ billDate: BILL_DATE }).path, 400, "INVALID_REQUEST", false);
  });

  it("serves the file only to a signed request of the merchant that applied, within 30 seconds", async () => {
    const answer = await applyFor(sandbox, direct, buildV3TradeBill({ billDate: BILL_DATE }).path);
    const target = downloadTarget(sandbox, answer);
    expect(target).toMatch(/^\/v3\/billdownload\/file\?token=[A-Za-z0-9_-]{43}$/);

    const unsigned = await signedGet(sandbox, direct, target, { authorization: false });
    expect(unsigned.status).toBe(401);
    expect(JSON.parse(unsigned.bytes.toString("utf8"))).toMatchObject({ code: "SIGN_ERROR" });
    const signedOther = await signedGet(sandbox, direct, target, { signTarget: "/v3/billdownload/file?token=other" });
    expect(signedOther.status).toBe(401);
    const foreign = await signedGet(sandbox, partner, target);
    expect({ status: foreign.status, body: JSON.parse(foreign.bytes.toString("utf8")) as unknown }).toMatchObject({ status: 403, body: { code: "NO_AUTH" } });
    const unknown = await signedGet(sandbox, direct, "/v3/billdownload/file?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    expect({ status: unknown.status, body: JSON.parse(unknown.bytes.toString("utf8")) as unknown }).toMatchObject({ status: 400, body: { code: "INVALID_REQUEST" } });
    const missing = await signedGet(sandbox, direct, "/v3/billdownload/file");
    expect({ status: missing.status, body: JSON.parse(missing.bytes.toString("utf8")) as unknown }).toMatchObject({ status: 400, body: { code: "PARAM_ERROR" } });

    await clock.advance(V3_BILL_URL_TTL_MS - 1);
    const late = await signedGet(sandbox, direct, target);
    expect(late.status).toBe(200);
    expect(createHash("sha1").update(late.bytes).digest("hex")).toBe(answer.hashValue);
    await clock.advance(1);
    const expired = await signedGet(sandbox, direct, target);
    expect({ status: expired.status, body: JSON.parse(expired.bytes.toString("utf8")) as unknown }).toMatchObject({ status: 400, body: { code: "INVALID_REQUEST" } });
  });

  it("issues a different unguessable token per application", async () => {
    const a = await applyFor(sandbox, direct, buildV3TradeBill({ billDate: BILL_DATE }).path);
    const b = await applyFor(sandbox, direct, buildV3TradeBill({ billDate: BILL_DATE }).path);
    expect(a.hashValue).toBe(b.hashValue);
    expect(a.downloadUrl).not.toBe(b.downloadUrl);
  });
});

describe("v3 bills: which days can be billed", () => {
  let sandbox: RunningSandbox;
  let clock: ManualClock;
  let client: V3TestClient;
  beforeAll(async () => {
    // 2026-03-10 07:00 Beijing.
    clock = createManualClock(BILL_DAY_START + 7 * HOUR);
    sandbox = await startSandbox({ merchants: [V3_DIRECT], clock });
    client = v3Client(sandbox, V3_DIRECT.mchId);
  });
  afterAll(() => sandbox.stop());

  it("refuses a future day (INVALID_REQUEST), makes today and yesterday wait until 08:00 / 10:00 (STATEMENT_CREATING), refuses more than three months back", async () => {
    const trade = (billDate: string): string => buildV3TradeBill({ billDate }).path;
    const fund = (billDate: string): string => buildV3FundFlowBill({ billDate }).path;
    await expectRefusal(client, trade("2026-03-11"), 400, "INVALID_REQUEST", true);
    await expectRefusal(client, trade("2026-03-10"), 400, "STATEMENT_CREATING", true);
    await expectRefusal(client, trade("2026-03-09"), 400, "STATEMENT_CREATING", true);
    await expectRefusal(client, fund("2026-03-09"), 400, "STATEMENT_CREATING", true);
    await clock.advance(HOUR); // 08:00
    await expectRefusal(client, trade("2026-03-09"), 400, "NO_STATEMENT_EXIST", true);
    await expectRefusal(client, fund("2026-03-09"), 400, "STATEMENT_CREATING", true);
    await clock.advance(2 * HOUR); // 10:00
    await expectRefusal(client, fund("2026-03-09"), 400, "NO_STATEMENT_EXIST", true);
    await expectRefusal(client, trade("2025-12-10"), 400, "NO_STATEMENT_EXIST", true);
    await expectRefusal(client, trade("2025-12-09"), 400, "INVALID_REQUEST", true);
    await expectRefusal(client, fund("2025-12-09"), 400, "INVALID_REQUEST", true);
  });
});

describe("v3 tradebill with the reconciliation controls", () => {
  /** 12:00 Beijing on BILL_DATE. */
  const NOON = BILL_DAY_START + 12 * HOUR;

  /** A sandbox with a foreign payment of V3_DIRECT at noon on BILL_DATE (and whatever `seed` adds then), at 10:00 the next day. */
  async function withBillDay(
    run: (sandbox: RunningSandbox, client: V3TestClient, control: SandboxControlClient) => Promise<void>,
    seed: (control: SandboxControlClient) => Promise<unknown> = () => Promise.resolve(),
  ): Promise<void> {
    const clock = createManualClock(NOON);
    const sandbox = await startSandbox({ merchants: [V3_DIRECT, V3_PARTNER], clock, requireClientCert: false });
    try {
      const control = controlOf(sandbox);
      await control.createForeignPayment({ mch_id: V3_DIRECT.mchId, out_trade_no: "V3-FOREIGN-1", total_fee: 321 });
      await seed(control);
      await clock.advance(DAY + 10 * HOUR - 12 * HOUR); // 10:00 the next day
      await run(sandbox, v3Client(sandbox, V3_DIRECT.mchId), control);
    } finally {
      await sandbox.stop();
    }
  }

  it("shows a foreign payment and a discrepancy in the file", async () => {
    await withBillDay(async (sandbox, client, control) => {
      expect((await tradeBill(sandbox, client, { billDate: BILL_DATE })).bill.rows.map((r) => [r.outTradeNo, r.totalFee?.amount])).toEqual([["V3-FOREIGN-1", 321]]);
      await control.addDiscrepancy({ kind: "payment_amount", mch_id: V3_DIRECT.mchId, out_trade_no: "V3-FOREIGN-1", total_fee: 320 });
      const { bill } = await tradeBill(sandbox, client, { billDate: BILL_DATE, tarType: "GZIP" });
      expect(bill.rows.map((r) => [r.outTradeNo, r.totalFee?.amount])).toEqual([["V3-FOREIGN-1", 320]]);
      expect(bill.summary.settlementTotalFee?.amount).toBe(320);
    });
  });

  it("serves a file that does not match its hash_value once with hash_mismatch, and a spoiled but matching file with a file fault", async () => {
    await withBillDay(async (sandbox, client, control) => {
      await control.addBillFault({ mch_id: V3_DIRECT.mchId, bill_date: BILL_DATE, fault: "hash_mismatch" });
      const answer = await applyFor(sandbox, client, buildV3TradeBill({ billDate: BILL_DATE }).path);
      const file = await signedGet(sandbox, client, downloadTarget(sandbox, answer));
      expect(file.status).toBe(200);
      expect(createHash("sha1").update(file.bytes).digest("hex")).not.toBe(answer.hashValue);
      const checked = parseV3TradeBill(file.bytes, { hashValue: answer.hashValue });
      expect(checked.ok ? undefined : checked.error.code).toBe("HASH_MISMATCH");
      // The file itself is a whole bill: only its hash tells.
      expect(parseBill(file.bytes).ok).toBe(true);
      expect((await control.listBillFaults()).bill_faults).toEqual([]);
      expect((await tradeBill(sandbox, client, { billDate: BILL_DATE })).bill.rows).toHaveLength(1);

      await control.addBillFault({ mch_id: V3_DIRECT.mchId, bill_date: BILL_DATE, fault: "truncated" });
      const truncatedAnswer = await applyFor(sandbox, client, buildV3TradeBill({ billDate: BILL_DATE, tarType: "GZIP" }).path);
      const truncated = await signedGet(sandbox, client, downloadTarget(sandbox, truncatedAnswer));
      expect(createHash("sha1").update(gunzipSync(truncated.bytes)).digest("hex")).toBe(truncatedAnswer.hashValue);
      const parsed = parseV3TradeBill(truncated.bytes, { hashValue: truncatedAnswer.hashValue, tarType: "GZIP" });
      expect(parsed.ok ? undefined : parsed.error.message).toContain("truncated");
    });
  });

  it("matches a fault to the bill asked for: a partner's sub-merchant bill only with its sub_mchid", async () => {
    await withBillDay(
      async (sandbox, _client, control) => {
        const partner = v3Client(sandbox, V3_PARTNER.mchId);
        await control.addBillFault({ mch_id: V3_PARTNER.mchId, sub_mch_id: V3_PARTNER.subMchId, bill_date: BILL_DATE, fault: "garbage" });
        // The service provider's bill of every sub-merchant is not the sub-merchant's bill: served whole.
        expect((await tradeBill(sandbox, partner, { billDate: BILL_DATE })).bill.rows.map((r) => r.outTradeNo)).toEqual(["V3-SUB-1"]);
        expect((await control.listBillFaults()).bill_faults.map((f) => f.remaining)).toEqual([1]);
        const answer = await applyFor(sandbox, partner, buildV3TradeBill({ billDate: BILL_DATE, subMchid: V3_PARTNER.subMchId }).path);
        const file = await signedGet(sandbox, partner, downloadTarget(sandbox, answer));
        const parsed = parseV3TradeBill(file.bytes, { hashValue: answer.hashValue });
        expect(parsed.ok ? undefined : parsed.error.code).toBe("MALFORMED_BILL");
        expect((await control.listBillFaults()).bill_faults).toEqual([]);
      },
      (control) => control.createForeignPayment({ mch_id: V3_PARTNER.mchId, sub_mch_id: V3_PARTNER.subMchId, out_trade_no: "V3-SUB-1", total_fee: 50 }),
    );
  });
});
