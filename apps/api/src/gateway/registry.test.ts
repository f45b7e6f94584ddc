import { describe, expect, it } from "vitest";
import { createFakeGateway } from "./fake.js";
import { createGatewayRegistry } from "./registry.js";

const merchant = { appId: "wxregistry0000001", mchId: "1900000109", subAppId: undefined, subMchId: undefined };
const v2 = createFakeGateway({ merchant, protocol: "v2" });
const v3 = createFakeGateway({ merchant, protocol: "v3" });

describe("createGatewayRegistry", () => {
  it("places new orders with v2 by default and knows only the gateways it was given", () => {
    const registry = createGatewayRegistry({ v2 });
    expect(registry.protocolForNewOrders).toBe("v2");
    expect(registry.forNewOrders).toBe(v2);
    expect(registry.of("v2")).toBe(v2);
    expect(registry.of("v3")).toBeUndefined();
    expect(registry.configured).toEqual(["v2"]);
  });

  it("with both, places new orders with the chosen protocol and keeps the other for its orders", () => {
    const registry = createGatewayRegistry({ v2, v3, protocolForNewOrders: "v3" });
    expect(registry.forNewOrders).toBe(v3);
    expect(registry.of("v2")).toBe(v2);
    expect(registry.of("v3")).toBe(v3);
    expect(registry.configured).toEqual(["v2", "v3"]);
  });

  it("a v3-only process has no v2 gateway", () => {
    const registry = createGatewayRegistry({ v3, protocolForNewOrders: "v3" });
    expect(registry.of("v2")).toBeUndefined();
    expect(registry.configured).toEqual(["v3"]);
  });

  it.each([
    [{ v3 }, "New orders use APIv2, but no v2 gateway was given."],
    [{ v2, protocolForNewOrders: "v3" as const }, "New orders use APIv3, but no v3 gateway was given."],
    [{}, "New orders use APIv2, but no v2 gateway was given."],
  ])("throws when the new orders' protocol has no gateway (%#)", (options, message) => {
    expect(() => createGatewayRegistry(options)).toThrow(message);
  });
});

describe("the fake gateway playing a protocol", () => {
  it("v3: JSON notifies, 200 with no body or a 400 FAIL, RSA params; it refuses a v2 fake's notify", () => {
    expect(v3.notifyContentTypes).toEqual(["application/json"]);
    expect(v3.notifyReply({ acknowledged: true })).toEqual({ status: 200, contentType: "application/json", body: "" });
    expect(v3.notifyReply({ acknowledged: false, message: "no" })).toEqual({ status: 400, contentType: "application/json", body: '{"code":"FAIL","message":"no"}' });
    expect(v3.paymentParams({ prepayId: "wx1", now: 0 })).toMatchObject({ signType: "RSA", paySign: expect.stringMatching(/^[A-Za-z0-9+/]{342}==$/) as unknown });
    expect(v3.parsePayNotify(v2.failedPayNotifyBody("NOTENOUGH"), {})).toMatchObject({ ok: false, error: { code: "SIGN_ERROR" } });
    expect(v3.parsePayNotify(v3.failedPayNotifyBody("NOTENOUGH"), {})).toEqual({ ok: true, value: { kind: "failed", code: "NOTENOUGH" } });
    expect(v3.parseRefundNotify(v3.ignoredNotifyBody("REFUND.NEW"), {})).toEqual({ ok: true, value: { kind: "ignored", reason: "REFUND.NEW" } });
  });

  it("v2: XML notifies answered 200 with WeChat's XML, params of the order's sign type", () => {
    expect(v2.notifyContentTypes).toContain("text/xml");
    expect(v2.notifyReply({ acknowledged: true }).body).toContain("SUCCESS");
    expect(v2.notifyReply({ acknowledged: false, message: "no" })).toMatchObject({ status: 200, contentType: "text/xml", body: expect.stringContaining("FAIL") as unknown });
    expect(v2.paymentParams({ prepayId: "wx1", now: 0, signType: "HMAC-SHA256" })).toMatchObject({
      signType: "HMAC-SHA256",
      paySign: expect.stringMatching(/^[0-9A-F]{64}$/) as unknown,
    });
    expect(v2.paymentParams({ prepayId: "wx1", now: 0 })).toMatchObject({ signType: "MD5", paySign: expect.stringMatching(/^[0-9A-F]{32}$/) as unknown });
    expect(v2.parsePayNotify(v2.ignoredNotifyBody("x"), {})).toEqual({ ok: true, value: { kind: "ignored", reason: "x" } });
    expect(v2.parseRefundNotify(v3.ignoredNotifyBody("x"), {})).toMatchObject({ ok: false });
  });
});
