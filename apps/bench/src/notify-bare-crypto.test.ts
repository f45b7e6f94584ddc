// The bare APIv3 crypto the notify benchmark measures: it really verifies and decrypts the notify, and its timing refuses wrong results.
import { buildSignedV3Notify, generateV3TestKeyPair } from "@pay/core/testing";
import { describe, expect, it } from "vitest";
import { BareV3Meter, bareV3Operations, cpuMicrosPerCall } from "./notify-bare-crypto.js";

const apiV3Key = "benchApiV3KeyForNotifies00000001";
const gateway = generateV3TestKeyPair();
const resource = { out_trade_no: "B000010001", amount: { total: 188, currency: "CNY" }, attach: "深圳分店" };
const notify = buildSignedV3Notify({
  eventType: "TRANSACTION.SUCCESS",
  resource,
  apiV3Key,
  signer: { privateKey: gateway.privateKey, serial: "PUB_KEY_ID_0119000000012026120300000000000001" },
  now: new Date("2026-12-03T22:00:00Z"),
});
const isThePayment = (text: string): boolean => (JSON.parse(text) as { out_trade_no?: unknown }).out_trade_no === resource.out_trade_no;

describe("bareV3Operations", () => {
  it("verifies the signature and decrypts the resource the gateway encrypted", () => {
    const ops = bareV3Operations(notify, gateway.publicKeyPem, apiV3Key);
    expect(ops.verify()).toBe(true);
    expect(JSON.parse(ops.decrypt())).toEqual(resource);
  });

  it("refuses a body that is not the one signed, and a wrong APIv3 key", () => {
    expect(bareV3Operations({ ...notify, body: notify.body.replace("TRANSACTION.SUCCESS", "TRANSACTION.SUCCESX") }, gateway.publicKeyPem, apiV3Key).verify()).toBe(false);
    expect(bareV3Operations(notify, generateV3TestKeyPair().publicKeyPem, apiV3Key).verify()).toBe(false);
    expect(() => bareV3Operations(notify, gateway.publicKeyPem, "0123456789abcdef0123456789abcdef").decrypt()).toThrow();
  });
});

describe("cpuMicrosPerCall", () => {
  it("gives the process CPU per call", () => {
    const ops = bareV3Operations(notify, gateway.publicKeyPem, apiV3Key);
    const perCall = cpuMicrosPerCall(ops.verify, 200, (ok) => ok);
    expect(perCall).toBeGreaterThan(0);
    expect(perCall).toBeLessThan(10_000);
  });

  it("throws when a call gives a wrong result", () => {
    expect(() =>
      cpuMicrosPerCall(
        () => 1,
        10,
        (n) => n === 2,
      ),
    ).toThrow("10 of 10 bare APIv3 operations gave a wrong result.");
  });
});

describe("BareV3Meter", () => {
  const options = { batchesPerSide: 2, verifyCalls: 20, decryptCalls: 50 };

  it("takes medians over the batches of both sides", () => {
    const meter = new BareV3Meter(bareV3Operations(notify, gateway.publicKeyPem, apiV3Key), options, isThePayment);
    expect(meter.result().batches).toBe(0);
    expect(Number.isNaN(meter.result().verifyMicros)).toBe(true);
    meter.sample();
    meter.sample();
    const result = meter.result();
    expect(result.batches).toBe(4);
    expect(result.verifyMicros).toBeGreaterThan(0);
    expect(result.decryptMicros).toBeGreaterThan(0);
  });

  it("refuses, before timing anything, a notify that does not verify or does not decrypt to the payment", () => {
    const tampered = { ...notify, body: `${notify.body} ` };
    expect(() => new BareV3Meter(bareV3Operations(tampered, gateway.publicKeyPem, apiV3Key), options, isThePayment)).toThrow("refuses the notify");
    expect(() => new BareV3Meter(bareV3Operations(notify, gateway.publicKeyPem, apiV3Key), options, () => false)).toThrow("does not give the notify's payment");
  });
});
