// A v3 merchant client built only from @pay/core's v3 code, over real HTTP, for the sandbox's v3 tests.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createV3KeyStore, createV3Signer, verifyV3Signature, type Result, type V3KeyStore, type V3Signer, type V3VerifiedSignature, type V3VerifyErrorCode } from "@pay/core";
import { V3_CERTIFICATE, V3_DIRECT, V3_GLOBAL, V3_INSTITUTION, V3_MIGRATING, V3_PARTNER } from "@pay/test-kit/merchants";
import { newPrepayId } from "../../src/ids.js";
import type { RunningSandbox } from "../../src/server.js";
import { payByPrepayId } from "../../src/state/payments.js";
import { newUnpaidOrder, type SandboxOrder } from "../../src/state/types.js";
import type { V3Identity } from "../../src/v3/identity.js";

export { V3_CERTIFICATE, V3_DIRECT, V3_GLOBAL, V3_INSTITUTION, V3_MIGRATING, V3_PARTNER };

/** Every v3 test merchant, for a sandbox that simulates them all. */
export const ALL_V3_MERCHANTS = [V3_DIRECT, V3_CERTIFICATE, V3_MIGRATING, V3_PARTNER, V3_GLOBAL, V3_INSTITUTION];

/** An answer as received: status, headers, and the raw body text (verified as is, never re-serialised). */
export interface V3Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON (undefined for an empty body). */
  readonly json: unknown;
}

export interface V3ClientRequest {
  /** Path and query exactly as sent (and signed). */
  readonly target: string;
  readonly method?: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  /** An object is sent as JSON.stringify(body); a string is sent as is. */
  readonly body?: object | string;
  /** Headers added to (or, with undefined, removed from) the defaults: Accept, Content-Type, User-Agent, Authorization. */
  readonly headers?: Readonly<Record<string, string | undefined>>;
  /** Signs with this time instead of the sandbox clock's (epoch ms). */
  readonly signAt?: number;
}

export interface V3TestClient {
  readonly identity: V3Identity;
  readonly signer: V3Signer;
  /** Sends a signed request and returns the answer as received. */
  send(request: V3ClientRequest): Promise<V3Answer>;
  /** The key store a merchant would build from what it downloaded: the public key and/or the platform certificates in use now. */
  keyStore(): V3KeyStore;
  /** Verifies an answer's `Wechatpay-*` headers over its raw body with keyStore(), at the sandbox clock's time. */
  verify(answer: V3Answer): Result<V3VerifiedSignature, V3VerifyErrorCode>;
}

function headersOf(headers: Headers): Record<string, string> {
  return Object.fromEntries(headers.entries());
}

/** A client for `mchId` (a v3 merchant of `sandbox`) signing with the private key the sandbox generated for it. */
export function v3Client(sandbox: RunningSandbox, mchId: string): V3TestClient {
  const identity = sandbox.context.v3.get(mchId);
  if (identity === undefined) throw new Error(`The sandbox has no v3 merchant ${mchId}.`);
  const privateKey = identity.merchantCertificate.privateKeyPem;
  if (privateKey === undefined) throw new Error(`Merchant ${mchId}'s key was configured, not generated: build a signer with the configured key.`);
  const signer = createV3Signer({ mchId, serialNo: identity.merchantCertificate.serial, privateKey });
  return v3ClientWith(sandbox, identity, signer);
}

/** A client signing with a given signer (a configured key, or a wrong one on purpose). */
export function v3ClientWith(sandbox: RunningSandbox, identity: V3Identity, signer: V3Signer): V3TestClient {
  const keyStore = (): V3KeyStore => {
    const now = sandbox.context.clock.now();
    return createV3KeyStore({
      certificates: sandbox.context.v3.liveCertificates(identity, now).map((c) => c.certificatePem),
      publicKeys: identity.publicKey === undefined ? [] : [{ id: identity.publicKey.id, publicKey: identity.publicKey.publicKeyPem }],
    });
  };
  return {
    identity,
    signer,
    keyStore,
    async send(request) {
      const method = request.method ?? (request.body === undefined ? "GET" : "POST");
      const body = request.body === undefined ? "" : typeof request.body === "string" ? request.body : JSON.stringify(request.body);
      const signed = signer.signRequest({ method, urlPath: request.target, body, now: request.signAt ?? sandbox.context.clock.now() });
      const headers: Record<string, string> = {
        accept: "application/json",
        "user-agent": "pay-sandbox-v3-tests",
        authorization: signed.authorization,
        ...(body === "" ? {} : { "content-type": "application/json" }),
      };
      for (const [name, value] of Object.entries(request.headers ?? {})) {
        if (value === undefined) delete headers[name.toLowerCase()];
        else headers[name.toLowerCase()] = value;
      }
      const response = await fetch(`${sandbox.url}${request.target}`, { method, headers, ...(method === "GET" ? {} : { body }) });
      const text = await response.text();
      let json: unknown;
      if (text !== "") {
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
      }
      return { status: response.status, headers: response.headers, text, json };
    },
    verify(answer) {
      return verifyV3Signature({ headers: headersOf(answer.headers), body: answer.text, keys: keyStore(), now: sandbox.context.clock.now() });
    },
  };
}

/** One notify as a v3 receiver got it: raw body and headers. */
export interface V3Delivery {
  readonly body: string;
  readonly headers: IncomingHttpHeaders;
}

/** A v3 notify receiver on an ephemeral port: records each delivery and answers with `reply` (204 by default). */
export interface V3Receiver {
  readonly url: string;
  readonly deliveries: V3Delivery[];
  reply: (delivery: V3Delivery, index: number) => { status: number; body?: string; delayMs?: number };
  close(): Promise<void>;
}

export async function startV3Receiver(): Promise<V3Receiver> {
  const deliveries: V3Delivery[] = [];
  const receiver: V3Receiver = { url: "", deliveries, reply: () => ({ status: 204 }), close: () => Promise.resolve() };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const delivery = { body: Buffer.concat(chunks).toString("utf8"), headers: req.headers };
      const index = deliveries.push(delivery) - 1;
      const answer = receiver.reply(delivery, index);
      const send = (): void => {
        res.writeHead(answer.status, { "content-type": "application/json" });
        res.end(answer.body ?? "");
      };
      if (answer.delayMs !== undefined) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/wxpay/v3/notify`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** What seedV3Order needs; the rest defaults to a direct CNY order of 100 fen. */
export interface SeedV3Order {
  readonly outTradeNo: string;
  readonly notifyUrl: string;
  readonly total?: number;
  readonly currency?: SandboxOrder["feeType"];
  /** The merchant entry's mchid (and subMchId for a partner / institution). */
  readonly mchId: string;
  readonly subMchId?: string;
  readonly openid?: string;
  readonly subOpenid?: string;
  readonly attach?: string;
}

/**
 * Puts an unpaid v3 order straight into the sandbox's store, as `POST .../jsapi` would, for suites that
 * test what happens after ordering (refunds, bills, notifies) without depending on the order endpoint.
 */
export function seedV3Order(sandbox: RunningSandbox, seed: SeedV3Order): SandboxOrder {
  const merchant = sandbox.context.findMerchant(seed.mchId, seed.subMchId);
  if (merchant === undefined) throw new Error(`No merchant ${seed.mchId}/${seed.subMchId ?? ""}.`);
  const now = sandbox.context.clock.now();
  const order = newUnpaidOrder({
    protocol: "v3",
    mchId: merchant.mchId,
    subMchId: merchant.subMchId,
    appId: merchant.appId,
    subAppId: seed.subOpenid === undefined ? undefined : merchant.subAppId,
    payAppId: seed.subOpenid === undefined ? merchant.appId : (merchant.subAppId ?? merchant.appId),
    outTradeNo: seed.outTradeNo,
    body: "Seeded v3 order",
    attach: seed.attach,
    totalFee: seed.total ?? 100,
    feeType: seed.currency ?? "CNY",
    signType: undefined,
    notifyUrl: seed.notifyUrl,
    openid: seed.subOpenid === undefined ? (seed.openid ?? "oSeededV3Payer0000000000001") : seed.openid,
    subOpenid: seed.subOpenid,
    fingerprint: `seeded:${seed.outTradeNo}`,
    createdAt: now,
    expiresAt: now + sandbox.context.options.orderTtlMs,
    prepayId: newPrepayId(now),
    prepayExpiresAt: now + sandbox.context.options.prepayTtlMs,
  });
  sandbox.context.store.addOrder(order);
  return order;
}

/** Seeds a v3 order and pays it (the payer taps Pay): TRANSACTION.SUCCESS is queued to its notify URL. */
export function seedPaidV3Order(sandbox: RunningSandbox, seed: SeedV3Order): SandboxOrder {
  const order = seedV3Order(sandbox, seed);
  const paid = payByPrepayId(sandbox.context, order.prepayId, "success");
  if (!paid.ok) throw new Error(paid.errMsg);
  return order;
}
