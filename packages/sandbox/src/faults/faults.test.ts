import { describe, expect, it } from "vitest";
import { SANDBOX_CONTROL_PATHS } from "../control/routes.js";
import { callGateway, DIRECT, orderFields, withSandbox } from "../../test/support/harness.js";
import { parseFaultHeader } from "./faults.js";

const query = { appid: DIRECT.appId, mch_id: DIRECT.mchId, out_trade_no: "NO_SUCH_ORDER" };

describe("fault injection", () => {
  it.each([
    ["delay=250", [{ kind: "delay", ms: 250 }]],
    ["timeout", [{ kind: "timeout" }]],
    ["http=503", [{ kind: "http", status: 503 }]],
    ["garbage, systemerror", [{ kind: "garbage" }, { kind: "systemerror" }]],
  ])("parses the header %s", (header, faults) => {
    expect(parseFaultHeader(header)).toEqual(faults);
  });

  it.each(["http=404", "delay=-1", "explode", "delay=abc"])("refuses the header %s", (header) => {
    expect(parseFaultHeader(header)).toBeUndefined();
  });

  it("delays an answer by the requested time", async () => {
    await withSandbox({}, async (sandbox) => {
      const started = performance.now();
      const answer = await callGateway(sandbox, "/pay/orderquery", query, { key: DIRECT.key, headers: { "x-sandbox-fault": "delay=300" } });
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
      expect(answer.fields?.err_code).toBe("ORDERNOTEXIST");
    });
  });

  it("holds the request open so the client times out", async () => {
    await withSandbox({}, async (sandbox) => {
      const attempt = fetch(`${sandbox.url}/pay/unifiedorder`, { method: "POST", body: "<xml/>", headers: { "x-sandbox-fault": "timeout" }, signal: AbortSignal.timeout(300) });
      await expect(attempt).rejects.toThrow();
    });
  });

  it("answers an nginx-style 5xx page, or garbage", async () => {
    await withSandbox({}, async (sandbox) => {
      const error = await callGateway(sandbox, "/pay/unifiedorder", orderFields(), { key: DIRECT.key, headers: { "x-sandbox-fault": "http=502" } });
      expect(error.status).toBe(502);
      expect(error.fields).toBeUndefined();
      const garbage = await callGateway(sandbox, "/secapi/pay/refund", {}, { key: DIRECT.key, headers: { "x-sandbox-fault": "garbage" } });
      expect(garbage.status).toBe(200);
      expect(garbage.fields).toBeUndefined();
    });
  });

  it("answers a signed SYSTEMERROR once the request is verified, and changes nothing", async () => {
    await withSandbox({}, async (sandbox) => {
      const fields = orderFields();
      const answer = await callGateway(sandbox, "/pay/unifiedorder", fields, { key: DIRECT.key, headers: { "x-sandbox-fault": "systemerror" } });
      expect(answer.fields).toMatchObject({ return_code: "SUCCESS", result_code: "FAIL", err_code: "SYSTEMERROR" });
      expect(answer.fields?.sign).toBeDefined();
      expect(sandbox.context.store.allOrders()).toHaveLength(0);
      // The same request retried without the fault succeeds.
      expect((await callGateway(sandbox, "/pay/unifiedorder", fields, { key: DIRECT.key })).fields?.result_code).toBe("SUCCESS");
    });
  });

  it("applies queued faults from the control API to the next N requests on a path", async () => {
    await withSandbox({}, async (sandbox) => {
      const rule = await fetch(`${sandbox.url}${SANDBOX_CONTROL_PATHS.faults}`, {
        method: "POST",
        body: JSON.stringify({ path: "/pay/orderquery", faults: [{ kind: "http", status: 503 }], times: 2 }),
      });
      expect(rule.status).toBe(201);
      expect((await callGateway(sandbox, "/pay/unifiedorder", orderFields())).status).toBe(200);
      expect((await callGateway(sandbox, "/pay/orderquery", query)).status).toBe(503);
      expect((await callGateway(sandbox, "/pay/orderquery", query)).status).toBe(503);
      expect((await callGateway(sandbox, "/pay/orderquery", query)).fields?.err_code).toBe("ORDERNOTEXIST");
      await fetch(`${sandbox.url}${SANDBOX_CONTROL_PATHS.faults}`, { method: "POST", body: JSON.stringify({ path: "*", faults: [{ kind: "garbage" }], times: 5 }) });
      expect(await (await fetch(`${sandbox.url}${SANDBOX_CONTROL_PATHS.faults}`)).json()).toMatchObject({ faults: [{ path: "*", remaining: 5 }] });
      expect((await fetch(`${sandbox.url}${SANDBOX_CONTROL_PATHS.faults}`, { method: "DELETE" })).status).toBe(204);
      expect((await callGateway(sandbox, "/pay/orderquery", query)).fields?.err_code).toBe("ORDERNOTEXIST");
    });
  });

  it("refuses an unknown fault header and a malformed rule with a 400 naming the problem", async () => {
    await withSandbox({}, async (sandbox) => {
      const header = await fetch(`${sandbox.url}/pay/orderquery`, { method: "POST", body: "<xml/>", headers: { "x-sandbox-fault": "explode" } });
      expect(header.status).toBe(400);
      expect(await header.text()).toContain("explode");
      const rule = await fetch(`${sandbox.url}${SANDBOX_CONTROL_PATHS.faults}`, {
        method: "POST",
        body: JSON.stringify({ path: "/pay/orderquery", faults: [{ kind: "http", status: 200 }] }),
      });
      expect(rule.status).toBe(400);
      expect(await rule.text()).toContain("faults.0");
    });
  });
});
