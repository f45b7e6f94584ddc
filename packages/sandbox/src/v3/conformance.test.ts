// The gateway's inbound checks, in their documented order, over real HTTP with exact request targets
// (node:http: fetch would add an Accept header and normalise the URL).
import { existsSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createV3Signer } from "@pay/core";
import { generateV3TestKeyPair } from "@pay/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManualClock } from "../clock.js";
import { startSandbox, type RunningSandbox } from "../server.js";
import { seedPaidV3Order, V3_CERTIFICATE, V3_DIRECT, V3_GLOBAL, v3Client } from "../../test/support/v3.js";

interface RawAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly json: { code?: string; message?: string; detail?: Record<string, unknown>; data?: unknown[] } | undefined;
}

interface RawRequest {
  readonly method?: string;
  /** Sent byte for byte as the request target. */
  readonly target: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

/** One request exactly as given: no header added, no URL normalisation. */
function send(sandbox: RunningSandbox, request: RawRequest): Promise<RawAnswer> {
  const { port } = new URL(sandbox.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method: request.method ?? "GET", path: request.target, headers: request.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text === "" ? undefined : (JSON.parse(text) as RawAnswer["json"]) });
      });
    });
    req.on("error", reject);
    req.end(request.body ?? "");
  });
}

const SIGNED_HEADERS = ["wechatpay-signature", "wechatpay-serial", "wechatpay-timestamp", "wechatpay-nonce", "wechatpay-signature-type"];

function isSigned(answer: RawAnswer): boolean {
  return SIGNED_HEADERS.every((h) => answer.headers[h] !== undefined);
}

/** A refusal of the checks: status, code, unsigned, with a Request-ID whose suffix is not the success code. */
function expectRefusal(answer: RawAnswer, status: number, code: string, message?: string): void {
  expect({ status: answer.status, code: answer.json?.code }).toEqual({ status, code });
  if (message !== undefined) expect(answer.json?.message).toBe(message);
  expect(SIGNED_HEADERS.filter((h) => answer.headers[h] !== undefined)).toEqual([]);
  expect(answer.headers["request-id"]).toMatch(/^[0-9A-F]+-[1-9]\d*$/);
}

const REFUNDS = "/v3/refund/domestic/refunds";
const REFUND_BODY = JSON.stringify({ out_trade_no: "CONFORMANCE0001", out_refund_no: "CONFORMANCE0001R", amount: { refund: 1, total: 1, currency: "CNY" } });

describe("v3 inbound checks", () => {
  let sandbox: RunningSandbox;
  const clock = createManualClock();
  beforeAll(async () => {
    sandbox = await startSandbox({ clock, merchants: [V3_DIRECT, V3_CERTIFICATE, V3_GLOBAL] });
  });
  afterAll(() => sandbox.stop());

  /** Headers of a request signed by V3_CERTIFICATE's key over `signed` (defaults: what is sent). */
  function signedHeaders(request: RawRequest, signed: { method?: string; target?: string; body?: string; at?: number } = {}): Record<string, string> {
    const { signer } = v3Client(sandbox, V3_CERTIFICATE.mchId);
    const authorization = signer.signRequest({
      method: signed.method ?? request.method ?? "GET",
      urlPath: signed.target ?? request.target,
      body: signed.body ?? (Buffer.isBuffer(request.body) ? request.body.toString("utf8") : (request.body ?? "")),
      now: signed.at ?? clock.now(),
    }).authorization;
    return { accept: "application/json", "content-type": "application/json", authorization, ...request.headers };
  }

  const signedSend = (request: RawRequest, signed?: Parameters<typeof signedHeaders>[1]): Promise<RawAnswer> =>
    send(sandbox, { ...request, headers: signedHeaders(request, signed) });

  it("passes a correct request and signs the answer", async () => {
    const answer = await signedSend({ target: "/v3/certificates" });
    expect(answer.status).toBe(200);
    expect(isSigned(answer)).toBe(true);
    expect(answer.headers["request-id"]).toMatch(/^[0-9A-F]+-0$/);
  });

  it("1. route: an unknown /v3 path is 404 RESOURCE_NOT_EXISTS", async () => {
    expectRefusal(await signedSend({ target: "/v3/pay/transactions/nowhere" }), 404, "RESOURCE_NOT_EXISTS");
    expectRefusal(await send(sandbox, { target: "/v3/no-such-api" }), 404, "RESOURCE_NOT_EXISTS");
    // Paths match exactly: no case folding, no trailing slash.
    expectRefusal(await signedSend({ target: "/v3/CERTIFICATES" }), 404, "RESOURCE_NOT_EXISTS");
    expectRefusal(await signedSend({ target: "/v3/certificates/" }), 404, "RESOURCE_NOT_EXISTS");
  });

  it("1. verb: a known path with another verb is 405", async () => {
    const answer = await signedSend({ method: "POST", target: "/v3/certificates", body: "{}" });
    expectRefusal(answer, 405, "METHOD_NOT_ALLOWED");
    expect(answer.headers.allow).toBe("GET");
    expectRefusal(await signedSend({ method: "GET", target: REFUNDS }), 405, "METHOD_NOT_ALLOWED");
  });

  it("2. Accept: missing is 400 PARAM_ERROR", async () => {
    const headers = signedHeaders({ target: "/v3/certificates" });
    delete headers.accept;
    expectRefusal(await send(sandbox, { target: "/v3/certificates", headers }), 400, "PARAM_ERROR", "请求头缺少Accept参数");
    // Any Accept will do (the SDKs send */*, application/json or a long list).
    expect((await signedSend({ target: "/v3/certificates", headers: { accept: "*/*" } })).status).toBe(200);
  });

  describe("3. Authorization", () => {
    const good = (): string => signedHeaders({ target: "/v3/certificates" }).authorization as string;
    const cases: [string, () => string | undefined][] = [
      ["missing", () => undefined],
      ["garbled", () => "garbage"],
      ["with the wrong scheme", () => good().replace("WECHATPAY2-SHA256-RSA2048", "WECHATPAY2-SHA256-RSA4096")],
      ["without the scheme", () => good().replace("WECHATPAY2-SHA256-RSA2048 ", "")],
      ["missing serial_no", () => good().replace(/,?serial_no="[^"]*"/, "")],
      ["missing nonce_str", () => good().replace(/,?nonce_str="[^"]*"/, "")],
      ["missing timestamp", () => good().replace(/,?timestamp="[^"]*"/, "")],
      ["missing signature", () => good().replace(/,?signature="[^"]*"/, "")],
      ["missing mchid", () => good().replace(/mchid="[^"]*",?/, "")],
      ["with an unquoted value", () => good().replace(/timestamp="(\d+)"/, "timestamp=$1")],
    ];
    it.each(cases)("%s is 401 SIGN_ERROR", async (_case, authorization) => {
      const headers = signedHeaders({ target: "/v3/certificates" });
      const value = authorization();
      if (value === undefined) delete headers.authorization;
      else headers.authorization = value;
      expectRefusal(await send(sandbox, { target: "/v3/certificates", headers }), 401, "SIGN_ERROR");
    });

    it("takes the five pairs in any order", async () => {
      const authorization = good();
      const [scheme, pairs] = authorization.split(" ", 2) as [string, string];
      const reordered = `${scheme} ${pairs.split(",").reverse().join(",")}`;
      expect((await send(sandbox, { target: "/v3/certificates", headers: { ...signedHeaders({ target: "/v3/certificates" }), authorization: reordered } })).status).toBe(200);
    });
  });

  it("4. an unknown mchid is 400 MCH_NOT_EXISTS", async () => {
    const stranger = createV3Signer({ mchId: "1900999999", serialNo: "1234567890ABCDEF", privateKey: generateV3TestKeyPair().privateKeyPem });
    const authorization = stranger.signRequest({ method: "GET", urlPath: "/v3/certificates", body: "", now: clock.now() }).authorization;
    expectRefusal(await send(sandbox, { target: "/v3/certificates", headers: { accept: "application/json", authorization } }), 400, "MCH_NOT_EXISTS");
  });

  it("5. a serial_no that is not the merchant's certificate is 401 SIGN_ERROR 商户证书序列号有误。", async () => {
    const headers = signedHeaders({ target: "/v3/certificates" });
    headers.authorization = (headers.authorization as string).replace(/serial_no="[^"]*"/, 'serial_no="0123456789ABCDEF0123456789ABCDEF01234567"');
    expectRefusal(await send(sandbox, { target: "/v3/certificates", headers }), 401, "SIGN_ERROR", "商户证书序列号有误。");
  });

  it.each([301_000, -301_000])("6. a timestamp %i ms off is 401 SIGN_ERROR; 300 s off passes", async (offset) => {
    const refused = await signedSend({ target: "/v3/certificates" }, { at: clock.now() + offset });
    expectRefusal(refused, 401, "SIGN_ERROR");
    expect(refused.json?.detail).toMatchObject({ detail: { issue: "timestamp expired" } });
    expect((await signedSend({ target: "/v3/certificates" }, { at: clock.now() + Math.sign(offset) * 300_000 })).status).toBe(200);
  });

  describe("7. the signature over the request exactly as received", () => {
    it.each([
      ["a different body", { method: "POST", target: REFUNDS, body: REFUND_BODY }, { body: REFUND_BODY.replace('"total":1', '"total":2') }],
      ["a different query", { target: "/v3/certificates?algorithm_type=RSA" }, { target: "/v3/certificates" }],
      ["a different path", { target: "/v3/certificates" }, { target: "/v3/global/certificates" }],
      ["a different method", { method: "POST", target: REFUNDS, body: REFUND_BODY }, { method: "PUT" }],
      ["the decoded query where the raw one was percent-encoded", { target: "/v3/certificates?algorithm_type=%52SA" }, { target: "/v3/certificates?algorithm_type=RSA" }],
    ] as [string, RawRequest, Parameters<typeof signedHeaders>[1]][])("a signature over %s is 401 SIGN_ERROR with sign_information", async (_case, request, signed) => {
      const answer = await signedSend(request, signed);
      expectRefusal(answer, 401, "SIGN_ERROR");
      const message = `${request.method ?? "GET"}\n${request.target}\n`;
      expect(answer.json?.detail).toMatchObject({
        field: "signature",
        location: "authorization",
        detail: { issue: "sign not match" },
        sign_information: { method: request.method ?? "GET", url: request.target },
      });
      const info = answer.json?.detail?.sign_information as { sign_message_length: number; truncated_sign_message: string };
      expect(info.truncated_sign_message.startsWith(message.slice(0, 64))).toBe(true);
      expect(info.sign_message_length).toBeGreaterThan(message.length);
    });

    it("a well-formed body changed by one byte after signing is 401", async () => {
      const tampered = REFUND_BODY.replace('"refund":1', '"refund":9');
      expect(JSON.parse(tampered)).toBeTruthy();
      expectRefusal(await signedSend({ method: "POST", target: REFUNDS, body: tampered }, { body: REFUND_BODY }), 401, "SIGN_ERROR");
      expectRefusal(await signedSend({ method: "POST", target: REFUNDS, body: `${REFUND_BODY} ` }, { body: REFUND_BODY }), 401, "SIGN_ERROR");
    });

    it("verifies the raw query as sent: a percent-encoded query signed as sent passes and is then decoded", async () => {
      const answer = await signedSend({ target: "/v3/certificates?algorithm_type=%52SA" });
      expect(answer.status).toBe(200);
      expect(answer.json?.data).toHaveLength(1);
    });

    it("passes a correctly signed POST on to its handler", async () => {
      // Before the order exists the refund handler itself answers: 404 for the unknown order, not a check's refusal.
      const unknown = await signedSend({ method: "POST", target: REFUNDS, body: REFUND_BODY });
      expectRefusal(unknown, 404, "RESOURCE_NOT_EXISTS");
      seedPaidV3Order(sandbox, { mchId: V3_CERTIFICATE.mchId, outTradeNo: "CONFORMANCE0001", total: 1, notifyUrl: "https://127.0.0.1:9/notify" });
      const answer = await signedSend({ method: "POST", target: REFUNDS, body: REFUND_BODY });
      expect(answer.status).toBe(200);
      expect(isSigned(answer)).toBe(true);
      expect(answer.json).toMatchObject({ out_refund_no: "CONFORMANCE0001R", status: "PROCESSING", amount: { refund: 1, total: 1 } });
    });
  });

  it("checks the body's size while reading it (a transport limit): 400 PARAM_ERROR before the Authorization", async () => {
    const body = JSON.stringify({ padding: "x".repeat(sandbox.context.options.maxBodyBytes) });
    expectRefusal(await send(sandbox, { method: "POST", target: REFUNDS, body, headers: { accept: "*/*", "content-type": "application/json" } }), 400, "PARAM_ERROR");
  });

  it("refuses a body that is not UTF-8 after the signature checks: 401 unsigned, 400 PARAM_ERROR when signed", async () => {
    const body = Buffer.concat([Buffer.from('{"out_trade_no":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expectRefusal(await send(sandbox, { method: "POST", target: REFUNDS, body, headers: { accept: "*/*" } }), 401, "SIGN_ERROR");
    expectRefusal(await signedSend({ method: "POST", target: REFUNDS, body }), 400, "PARAM_ERROR", "请求体不是合法的UTF-8编码");
  });

  it("8. then the schema: PARAM_ERROR with detail", async () => {
    const answer = await signedSend({ target: "/v3/certificates?algorithm_type=DSA" });
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ code: "PARAM_ERROR", detail: { location: "query", value: "DSA" } });
    const unknownField = await signedSend({ method: "POST", target: REFUNDS, body: REFUND_BODY.replace("{", '{"payer":{"openid":"o1"},') });
    expectRefusal(unknownField, 400, "PARAM_ERROR", "请求中含有未在API文档中定义的参数");
    expect(unknownField.json?.detail).toEqual({ location: null, value: ["/body/payer"] });
    const missing = await signedSend({
      method: "POST",
      target: REFUNDS,
      body: JSON.stringify({ out_trade_no: "CONFORMANCE0001", amount: { refund: 1, total: 1, currency: "CNY" } }),
    });
    expectRefusal(missing, 400, "PARAM_ERROR");
    expect(missing.json?.detail).toMatchObject({ location: "body", value: "/body/out_refund_no" });
  });

  it("after the signature, the route family must be the merchant's: mainland and Global are apart (400 INVALID_REQUEST)", async () => {
    const global = v3Client(sandbox, V3_GLOBAL.mchId);
    const mainland = v3Client(sandbox, V3_CERTIFICATE.mchId);
    expect((await global.send({ target: "/v3/global/certificates" })).status).toBe(200);
    const refusals = [await global.send({ target: "/v3/certificates" }), await mainland.send({ target: "/v3/global/certificates" })];
    for (const answer of refusals) {
      expect({ status: answer.status, code: (answer.json as { code?: string }).code }).toEqual({ status: 400, code: "INVALID_REQUEST" });
      expect(answer.headers.get("wechatpay-signature")).toBeNull();
    }
  });

  describe("a request wrong in two ways gets the earlier refusal", () => {
    it("unknown path and no Accept: 404", async () => {
      expectRefusal(await send(sandbox, { target: "/v3/nowhere" }), 404, "RESOURCE_NOT_EXISTS");
    });

    it("wrong verb and no Authorization: 405", async () => {
      expectRefusal(await send(sandbox, { method: "DELETE", target: "/v3/certificates", headers: { accept: "application/json" } }), 405, "METHOD_NOT_ALLOWED");
    });

    it("no Accept and no Authorization: 400 PARAM_ERROR (Accept)", async () => {
      expectRefusal(await send(sandbox, { target: "/v3/certificates" }), 400, "PARAM_ERROR", "请求头缺少Accept参数");
    });

    it("an unknown mchid and a stale timestamp: MCH_NOT_EXISTS", async () => {
      const stranger = createV3Signer({ mchId: "1900999998", serialNo: "1234567890ABCDEF", privateKey: generateV3TestKeyPair().privateKeyPem });
      const authorization = stranger.signRequest({ method: "GET", urlPath: "/v3/certificates", body: "", now: clock.now() - 3600_000 }).authorization;
      expectRefusal(await send(sandbox, { target: "/v3/certificates", headers: { accept: "*/*", authorization } }), 400, "MCH_NOT_EXISTS");
    });

    it("a wrong serial and a stale timestamp: the serial", async () => {
      const headers = signedHeaders({ target: "/v3/certificates" }, { at: clock.now() - 3600_000 });
      headers.authorization = (headers.authorization as string).replace(/serial_no="[^"]*"/, 'serial_no="ABCDEF"');
      expectRefusal(await send(sandbox, { target: "/v3/certificates", headers }), 401, "SIGN_ERROR", "商户证书序列号有误。");
    });

    it("a stale timestamp and a bad signature: the timestamp", async () => {
      const answer = await signedSend({ target: "/v3/certificates" }, { at: clock.now() - 3600_000, target: "/v3/other" });
      expectRefusal(answer, 401, "SIGN_ERROR");
      expect(answer.json?.detail).toMatchObject({ detail: { issue: "timestamp expired" } });
    });

    it("a bad signature and a schema error: the signature", async () => {
      const answer = await signedSend({ target: "/v3/certificates?algorithm_type=DSA" }, { target: "/v3/certificates" });
      expectRefusal(answer, 401, "SIGN_ERROR");
      expect(answer.json?.detail).toMatchObject({ detail: { issue: "sign not match" } });
    });
  });
});

/** `shared/reference/vectors-v3.json` beside the repository, found walking up from here. */
function vectorsFile(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, "shared", "reference", "vectors-v3.json");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error("shared/reference/vectors-v3.json not found above the sandbox package.");
}

interface RequestVector {
  readonly method: string;
  readonly urlPath: string;
  readonly timestamp: string;
  readonly body: string;
  readonly authorization: string;
}
interface SampleKey {
  readonly mchid: string;
  readonly serialNo: string;
  readonly publicKeyPem: string;
}

describe("v3 inbound checks: the documented request signature (vectors-v3.json)", () => {
  const vectors = JSON.parse(readFileSync(vectorsFile(), "utf8")) as {
    merchantSampleKey: SampleKey;
    requestSignature: RequestVector;
  };
  const key = vectors.merchantSampleKey;
  const vector = vectors.requestSignature;
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    const clock = createManualClock(Number(vector.timestamp) * 1000);
    sandbox = await startSandbox({
      clock,
      merchants: [
        {
          appId: "wxd678efh567hg6787",
          mchId: key.mchid,
          v3: { apiV3Key: "SampleKeyApiV3KeyForTests0000001", keyMode: "public-key", merchantCertificate: { serial: key.serialNo, publicKeyPem: key.publicKeyPem } },
        },
      ],
    });
  });
  afterAll(() => sandbox.stop());

  const sendVector = (change: Partial<RequestVector> = {}): Promise<RawAnswer> => {
    const v = { ...vector, ...change };
    return send(sandbox, {
      method: v.method,
      target: v.urlPath,
      body: v.body,
      headers: { accept: "application/json", "content-type": "application/json", authorization: v.authorization },
    });
  };

  it("passes the signature checks, and the order handler accepts the documented order: 200 with a prepay_id", async () => {
    const answer = await sendVector();
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ prepay_id: expect.stringMatching(/^wx\d{14}[0-9a-f]{20}$/) as unknown });
    const order = sandbox.context.store.allOrders()[0];
    expect(order).toMatchObject({ protocol: "v3", mchId: key.mchid, totalFee: 100, feeType: "CNY", tradeState: "NOTPAY" });
  });

  it.each([
    ["the body", () => ({ body: `${vector.body.slice(0, -1)} ` })],
    ["the timestamp", () => ({ authorization: vector.authorization.replace(`timestamp="${vector.timestamp}"`, `timestamp="${Number(vector.timestamp) + 1}"`) })],
    ["the signature", () => ({ authorization: vector.authorization.replace(/signature="(.)/, (_m, c: string) => `signature="${c === "A" ? "B" : "A"}`) })],
    ["the nonce", () => ({ authorization: vector.authorization.replace(/nonce_str="(.)/, (_m, c: string) => `nonce_str="${c === "A" ? "B" : "A"}`) })],
  ])("a one-byte change in %s is 401 SIGN_ERROR", async (_part, change) => {
    const answer = await sendVector(change());
    expect(answer.status).toBe(401);
    expect(answer.json?.code).toBe("SIGN_ERROR");
  });
});
