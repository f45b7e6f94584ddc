import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, expectTypeOf, it } from "vitest";
import { GATEWAY_PATHS } from "../app.js";
import { callGateway, DIRECT, GLOBAL, orderFields, placeOrder, startReceiver, waitFor, withSandbox } from "../../test/support/harness.js";
import { createSandboxControlClient, SandboxControlError, type SandboxControlClient, type SandboxControlFetch } from "./client.js";
import { SANDBOX_CONTROL_PATHS, type SandboxControlAnswer, type SandboxControlBody, type SandboxControlQuery } from "./routes.js";
import type { FaultRuleInput, LoginCodeRequest, OrdersAnswer, PayAnswer, PayRequest, SandboxOrderView } from "./schemas.js";

/** A fetch that answers every call with `status` and `body`, whatever was asked. */
function answering(status: number, body: string): SandboxControlFetch {
  return () => Promise.resolve({ status, text: () => Promise.resolve(body) });
}

/** The error a promise rejects with, checked to be a SandboxControlError. */
async function failure(promise: Promise<unknown>): Promise<SandboxControlError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof SandboxControlError)) throw new Error(`expected a SandboxControlError, got ${String(error)}`);
  return error;
}

describe("createSandboxControlClient against a real sandbox over HTTP", () => {
  it("lists the merchants, issues login codes and shows the cashier URL", async () => {
    await withSandbox({}, async (sandbox) => {
      const control = createSandboxControlClient({ baseUrl: `${sandbox.url}/` });
      expect(control.baseUrl).toBe(sandbox.url);
      const { merchants } = await control.listMerchants();
      expect(merchants).toEqual(
        expect.arrayContaining([
          { appid: DIRECT.appId, mch_id: DIRECT.mchId, sub_appid: null, sub_mch_id: null, profile: "domestic", protocols: ["v2"], v3: null },
          { appid: GLOBAL.appId, mch_id: GLOBAL.mchId, sub_appid: null, sub_mch_id: null, profile: "global", protocols: ["v2"], v3: null },
        ]),
      );
      const issued = await control.createLoginCode({ appid: DIRECT.appId, user: "alice" });
      expect(issued.openid).toMatch(/^o[\w-]{27}$/);
      expect(Date.parse(issued.expires_at)).toBeGreaterThan(Date.now());
      expect((await control.createLoginCode({ appid: DIRECT.appId })).openid).toBe((await control.createLoginCode({ appid: DIRECT.appId, user: "demo-user" })).openid);
      expect(control.cashierUrl("wx01 a&b")).toBe(`${sandbox.url}${SANDBOX_CONTROL_PATHS.cashier}?prepay_id=wx01%20a%26b`);
      expect((await fetch(control.cashierUrl("wx-unknown"))).status).toBe(404);
    });
  });

  it("pays, lists orders and deliveries, and settles a refund", async () => {
    const receiver = await startReceiver();
    try {
      await withSandbox({ refundSettleMs: null }, async (sandbox) => {
        const control = createSandboxControlClient({ baseUrl: sandbox.url });
        const fields = orderFields({ notify_url: receiver.url, total_fee: 1000 });
        const outTradeNo = String(fields.out_trade_no);
        const prepayId = await placeOrder(sandbox, fields);
        expect((await control.listOrders({ out_trade_no: outTradeNo })).orders).toEqual([
          expect.objectContaining({ out_trade_no: outTradeNo, trade_state: "NOTPAY", prepay_id: prepayId }),
        ]);

        const paid = await control.pay({ prepay_id: prepayId, outcome: "success" });
        expect(paid).toMatchObject({
          outcome: "success",
          errMsg: "requestPayment:ok",
          order: { out_trade_no: outTradeNo, trade_state: "SUCCESS", fee_type: "CNY", total_fee: 1000 },
        });
        expect(paid.order.transaction_id).toMatch(/^4200\d{24}$/);
        expect((await control.listOrders({ mch_id: "nobody" })).orders).toEqual([]);

        await waitFor(() => receiver.bodies.length >= 1);
        await waitFor(() => sandbox.context.store.deliveries({ outTradeNo }).length >= 1);
        const { deliveries } = await control.listDeliveries({ out_trade_no: outTradeNo, kind: "pay" });
        expect(deliveries).toEqual([expect.objectContaining({ kind: "pay", outTradeNo, attempt: 1, copy: false, outcome: "acknowledged", httpStatus: 200 })]);
        expect((await control.listDeliveries({ kind: "refund" })).deliveries).toEqual([]);

        const refund = await callGateway(sandbox, GATEWAY_PATHS.refund, {
          appid: DIRECT.appId,
          mch_id: DIRECT.mchId,
          out_trade_no: outTradeNo,
          out_refund_no: "R1",
          total_fee: 1000,
          refund_fee: 300,
        });
        expect(refund.fields?.result_code).toBe("SUCCESS");
        expect((await control.listOrders({ out_trade_no: outTradeNo })).orders[0]?.refunds).toEqual([
          expect.objectContaining({ out_refund_no: "R1", refund_fee: 300, refund_status: "PROCESSING" }),
        ]);
        expect(await control.settleRefund({ mch_id: DIRECT.mchId, out_refund_no: "R1", status: "SUCCESS" })).toEqual({ out_refund_no: "R1", refund_status: "SUCCESS" });
      });
    } finally {
      await receiver.close();
    }
  });

  it("queues, lists and clears faults", async () => {
    await withSandbox({}, async (sandbox) => {
      const control = createSandboxControlClient({ baseUrl: sandbox.url });
      const { fault } = await control.addFault({ path: GATEWAY_PATHS.orderQuery, faults: [{ kind: "http", status: 503 }] });
      expect(fault).toEqual({ path: GATEWAY_PATHS.orderQuery, faults: [{ kind: "http", status: 503 }], times: 1, remaining: 1 });
      await control.addFault({ path: "*", faults: [{ kind: "delay", ms: 1 }, { kind: "systemerror" }], times: 3 });
      expect((await control.listFaults()).faults.map((f) => [f.path, f.remaining])).toEqual([
        [GATEWAY_PATHS.orderQuery, 1],
        ["*", 3],
      ]);
      expect((await callGateway(sandbox, GATEWAY_PATHS.orderQuery, { appid: DIRECT.appId, mch_id: DIRECT.mchId, out_trade_no: "NONE" })).status).toBe(503);
      await expect(control.clearFaults()).resolves.toBeUndefined();
      expect((await control.listFaults()).faults).toEqual([]);
    });
  });

  it("throws a SandboxControlError naming the call, the status and the sandbox's code", async () => {
    await withSandbox({}, async (sandbox) => {
      const control = createSandboxControlClient({ baseUrl: sandbox.url });
      const prepayId = await placeOrder(sandbox, orderFields());
      await control.pay({ prepay_id: prepayId, outcome: "success" });
      const paidTwice = await failure(control.pay({ prepay_id: prepayId, outcome: "success" }));
      expect(paidTwice).toMatchObject({ call: "pay", status: 409, code: "ORDER_PAID", answer: { error: { code: "ORDER_PAID" } } });
      expect(paidTwice.answer?.errMsg).toMatch(/^requestPayment:fail/);
      expect(paidTwice.message).toContain(`sandbox control pay (POST ${SANDBOX_CONTROL_PATHS.pay}) answered HTTP 409 ORDER_PAID`);

      const unknown = await failure(control.settleRefund({ mch_id: DIRECT.mchId, out_refund_no: "NOPE", status: "SUCCESS" }));
      expect(unknown).toMatchObject({ call: "settleRefund", status: 404, code: "REFUND_NOT_FOUND" });

      const refused = await failure(control.createLoginCode({ appid: "wx_unknown" }));
      expect(refused).toMatchObject({ call: "createLoginCode", status: 400, code: "BAD_REQUEST" });
      expect(refused.message).toContain("wx_unknown");
    });
  });
});

describe("createSandboxControlClient on answers that break the contract", () => {
  it("refuses an answer of the wrong shape, naming the call, the status and the field", async () => {
    const control = createSandboxControlClient({ baseUrl: "http://sandbox.test", fetch: answering(200, JSON.stringify({ orders: [{ out_trade_no: "T1" }] })) });
    const error = await failure(control.listOrders());
    expect(error).toMatchObject({ call: "listOrders", status: 200, code: "UNEXPECTED_ANSWER", body: { orders: [{ out_trade_no: "T1" }] } });
    expect(error.message).toMatch(/^sandbox control listOrders \(GET \/sandbox\/orders\) answered HTTP 200 with an unexpected shape: orders\.0\.\w+/);
  });

  it("refuses a trade state or currency the contract does not know", async () => {
    const order = {
      protocol: "v2",
      mch_id: "1",
      sub_mch_id: null,
      out_trade_no: "T1",
      body: "b",
      openid: null,
      sub_openid: null,
      total_fee: 1,
      fee_type: "CNY",
      trade_state: "SUCCESS",
      prepay_id: "wx1",
      transaction_id: null,
      time_end: null,
      cash_fee: null,
      cash_fee_type: null,
      rate: null,
      refunds: [],
    };
    const good = createSandboxControlClient({ baseUrl: "http://sandbox.test", fetch: answering(200, JSON.stringify({ orders: [order] })) });
    expect((await good.listOrders()).orders).toEqual([order]);
    for (const broken of [
      { ...order, trade_state: "PAID" },
      { ...order, fee_type: "XXX" },
      { ...order, total_fee: 1.5 },
    ]) {
      const control = createSandboxControlClient({ baseUrl: "http://sandbox.test", fetch: answering(200, JSON.stringify({ orders: [broken] })) });
      expect(await failure(control.listOrders())).toMatchObject({ code: "UNEXPECTED_ANSWER" });
    }
  });

  it("refuses a success status other than the call's, and a non-2xx without an error answer", async () => {
    const created = createSandboxControlClient({
      baseUrl: "http://sandbox.test",
      fetch: answering(200, JSON.stringify({ fault: { path: "*", faults: [{ kind: "garbage" }], times: 1, remaining: 1 } })),
    });
    expect(await failure(created.addFault({ path: "*", faults: [{ kind: "garbage" }] }))).toMatchObject({ call: "addFault", status: 200, code: "UNEXPECTED_STATUS" });
    const proxy = createSandboxControlClient({ baseUrl: "http://sandbox.test", fetch: answering(502, "<html>Bad Gateway</html>") });
    const error = await failure(proxy.clearFaults());
    expect(error).toMatchObject({ call: "clearFaults", status: 502, code: "UNEXPECTED_STATUS", body: "<html>Bad Gateway</html>" });
    expect(error.message).toBe(`sandbox control clearFaults (DELETE ${SANDBOX_CONTROL_PATHS.faults}) answered HTTP 502, expected 204: <html>Bad Gateway</html>`);
  });

  it("reports a sandbox that does not answer as UNREACHABLE", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await failure(createSandboxControlClient({ baseUrl: `http://127.0.0.1:${port}` }).listFaults());
    expect(error).toMatchObject({ call: "listFaults", status: undefined, code: "UNREACHABLE" });
    expect(error.message).toContain(`127.0.0.1:${port}`);
  });

  it("sends the call's method, path, query and JSON body", async () => {
    const seen: Array<{ url: string; method: string; headers: Record<string, string>; body?: string }> = [];
    const control = createSandboxControlClient({
      baseUrl: "http://sandbox.test",
      fetch: (url, init) => {
        seen.push({ url, ...init });
        return Promise.resolve({ status: 200, text: () => Promise.resolve(JSON.stringify({ deliveries: [] })) });
      },
    });
    await control.listDeliveries({ out_trade_no: "T 1&x", kind: "refund" });
    expect(seen).toEqual([{ url: "http://sandbox.test/sandbox/deliveries?out_trade_no=T+1%26x&kind=refund", method: "GET", headers: { accept: "application/json" } }]);
    await failure(control.settleRefund({ mch_id: "1", out_refund_no: "R1", status: "CHANGE" }));
    expect(seen[1]).toEqual({
      url: "http://sandbox.test/sandbox/refunds/settle",
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json" },
      body: JSON.stringify({ mch_id: "1", out_refund_no: "R1", status: "CHANGE" }),
    });
  });

  it("throws at construction on a base URL that is not http(s)", () => {
    expect(() => createSandboxControlClient({ baseUrl: "127.0.0.1:8790" })).toThrow(/baseUrl/);
  });
});

describe("the client's types come from the route table", () => {
  it("pins each call's body, query and answer to its schemas", () => {
    expectTypeOf<SandboxControlBody<"pay">>().toEqualTypeOf<PayRequest>();
    expectTypeOf<SandboxControlBody<"createLoginCode">>().toEqualTypeOf<LoginCodeRequest>();
    expectTypeOf<SandboxControlBody<"addFault">>().toEqualTypeOf<FaultRuleInput>();
    expectTypeOf<SandboxControlBody<"listOrders">>().toEqualTypeOf<undefined>();
    expectTypeOf<SandboxControlQuery<"pay">>().toEqualTypeOf<undefined>();
    expectTypeOf<SandboxControlAnswer<"pay">>().toEqualTypeOf<PayAnswer>();
    expectTypeOf<SandboxControlAnswer<"clearFaults">>().toEqualTypeOf<undefined>();
    expectTypeOf<SandboxControlClient["pay"]>().returns.resolves.toEqualTypeOf<PayAnswer>();
    expectTypeOf<SandboxControlClient["listOrders"]>().returns.resolves.toEqualTypeOf<OrdersAnswer>();
    expectTypeOf<OrdersAnswer["orders"][number]>().toEqualTypeOf<SandboxOrderView>();
    expectTypeOf<SandboxOrderView["trade_state"]>().toEqualTypeOf<"NOTPAY" | "SUCCESS" | "CLOSED" | "REFUND" | "PAYERROR">();
  });
});
