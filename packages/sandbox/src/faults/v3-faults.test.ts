import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type RunningSandbox } from "../server.js";
import { controlOf } from "../../test/support/harness.js";
import { V3_CERTIFICATE, V3_DIRECT, v3Client, type V3Answer } from "../../test/support/v3.js";
import { parseFaultHeader } from "./faults.js";

const CERTIFICATES = "/v3/certificates";

function signatureHeaders(answer: V3Answer): string[] {
  return ["wechatpay-signature", "wechatpay-serial", "wechatpay-timestamp", "wechatpay-nonce"].filter((h) => answer.headers.get(h) !== null);
}

describe("v3 answer faults", () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ merchants: [V3_DIRECT, V3_CERTIFICATE] });
  });
  afterEach(() => controlOf(sandbox).clearFaults());
  afterAll(() => sandbox.stop());

  it.each([
    ["badsignature", [{ kind: "badsignature" }]],
    ["unknownserial", [{ kind: "unknownserial" }]],
    ["skew, signtest", [{ kind: "skew" }, { kind: "signtest" }]],
    ["rotate", [{ kind: "rotate" }]],
  ])("parses the v3 header %s", (header, faults) => {
    expect(parseFaultHeader(header)).toEqual(faults);
  });

  it("answers an unknown fault with 400 naming the v3 ones", async () => {
    const answer = await v3Client(sandbox, V3_CERTIFICATE.mchId).send({ target: CERTIFICATES, headers: { "x-sandbox-fault": "badsig" } });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain("badsignature, unknownserial, skew, signtest, rotate");
  });

  describe.each([
    ["platform-certificate (200)", V3_CERTIFICATE.mchId, 200],
    ["public-key (signed 404)", V3_DIRECT.mchId, 404],
  ])("on a %s answer", (_mode, mchId, status) => {
    it("verifies without a fault", async () => {
      const client = v3Client(sandbox, mchId);
      const answer = await client.send({ target: CERTIFICATES });
      expect(answer.status).toBe(status);
      expect(client.verify(answer).ok).toBe(true);
    });

    it("badsignature: a well-formed signature that does not verify (BAD_SIGNATURE)", async () => {
      const client = v3Client(sandbox, mchId);
      const answer = await client.send({ target: CERTIFICATES, headers: { "x-sandbox-fault": "badsignature" } });
      expect(answer.status).toBe(status);
      expect(answer.headers.get("wechatpay-signature")).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(client.verify(answer)).toMatchObject({ ok: false, error: { code: "BAD_SIGNATURE" } });
    });

    it("unknownserial: a serial of the same kind the merchant was never given (UNKNOWN_SERIAL)", async () => {
      const client = v3Client(sandbox, mchId);
      const answer = await client.send({ target: CERTIFICATES, headers: { "x-sandbox-fault": "unknownserial" } });
      const serial = answer.headers.get("wechatpay-serial") ?? "";
      expect(serial.startsWith("PUB_KEY_ID_")).toBe(client.identity.keyMode === "public-key");
      expect(client.verify(answer)).toMatchObject({ ok: false, error: { code: "UNKNOWN_SERIAL" } });
    });

    it("skew: the timestamp six minutes off (TIMESTAMP_SKEW), the signature otherwise right", async () => {
      const client = v3Client(sandbox, mchId);
      const before = Math.floor(sandbox.context.clock.now() / 1000);
      const answer = await client.send({ target: CERTIFICATES, headers: { "x-sandbox-fault": "skew" } });
      const skew = Number(answer.headers.get("wechatpay-timestamp")) - before;
      expect(skew).toBeGreaterThanOrEqual(360);
      expect(skew).toBeLessThanOrEqual(362);
      expect(client.verify(answer)).toMatchObject({ ok: false, error: { code: "TIMESTAMP_SKEW" } });
    });

    it("signtest: a WECHATPAY/SIGNTEST/ probe signature, which core refuses", async () => {
      const client = v3Client(sandbox, mchId);
      const answer = await client.send({ target: CERTIFICATES, headers: { "x-sandbox-fault": "signtest" } });
      expect(answer.headers.get("wechatpay-signature")).toMatch(/^WECHATPAY\/SIGNTEST\//);
      expect(client.verify(answer)).toMatchObject({ ok: false, error: { code: "SIGNATURE_PROBE" } });
    });
  });

  it("systemerror: 500 SYSTEM_ERROR unsigned, only for a request that passed the checks", async () => {
    const client = v3Client(sandbox, V3_CERTIFICATE.mchId);
    const answer = await client.send({ target: CERTIFICATES, headers: { "x-sandbox-fault": "systemerror" } });
    expect(answer.status).toBe(500);
    expect(answer.json).toEqual({ code: "SYSTEM_ERROR", message: "系统繁忙，请稍后重试" });
    expect(signatureHeaders(answer)).toEqual([]);
    expect(answer.headers.get("request-id")).toMatch(/-268000500$/);
    const unsigned = await client.send({ target: CERTIFICATES, headers: { "x-sandbox-fault": "systemerror", authorization: undefined } });
    expect(unsigned.status).toBe(401);
    expect(unsigned.json).toMatchObject({ code: "SIGN_ERROR" });
  });

  it("keeps the transport faults on v3 paths: an nginx 502 page, garbage", async () => {
    const client = v3Client(sandbox, V3_CERTIFICATE.mchId);
    const page = await client.send({ target: CERTIFICATES, headers: { "x-sandbox-fault": "http=502" } });
    expect(page.status).toBe(502);
    expect(page.text).toContain("nginx");
    expect(signatureHeaders(page)).toEqual([]);
    const garbage = await client.send({ target: CERTIFICATES, headers: { "x-sandbox-fault": "garbage" } });
    expect(garbage.status).toBe(200);
    expect(garbage.json).toBeUndefined();
    expect(client.verify(garbage).ok).toBe(false);
  });

  it("applies faults queued over the control API on a v3 path, for the number of times asked", async () => {
    const control = controlOf(sandbox);
    const client = v3Client(sandbox, V3_CERTIFICATE.mchId);
    await control.addFault({ path: CERTIFICATES, faults: [{ kind: "badsignature" }], times: 2 });
    await control.addFault({ path: CERTIFICATES, faults: [{ kind: "systemerror" }] });
    await control.addFault({ path: "/v3/pay/transactions/jsapi", faults: [{ kind: "skew" }] });
    expect((await control.listFaults()).faults.map((f) => [f.path, f.remaining])).toEqual([
      [CERTIFICATES, 2],
      [CERTIFICATES, 1],
      ["/v3/pay/transactions/jsapi", 1],
    ]);
    const answers: V3Answer[] = [];
    for (let i = 0; i < 4; i++) answers.push(await client.send({ target: CERTIFICATES }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 500, 200]);
    expect(answers.map((a) => client.verify(a).ok)).toEqual([false, false, false, true]);
    expect(client.verify(answers[0] as V3Answer)).toMatchObject({ ok: false, error: { code: "BAD_SIGNATURE" } });
    expect(answers[2]?.json).toMatchObject({ code: "SYSTEM_ERROR" });
    // The rule for another path is untouched.
    expect((await control.listFaults()).faults.map((f) => f.path)).toEqual(["/v3/pay/transactions/jsapi"]);
  });
});
