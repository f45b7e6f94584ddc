import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { RequestPaymentParams } from "@pay/core/contract";
import type { RunningSandbox } from "@pay/sandbox";
import { expect } from "vitest";
import type { V3HttpAnswer, V3Transport } from "../../src/gateway/v3/client.js";
import type { V3GatewayOptions } from "../../src/gateway/v3/gateway.js";
import type { V3KeyMode } from "../../src/gateway/v3/keys.js";

/** The key material a v3 merchant of the sandbox was given: its API key and serial, and the WeChat Pay public key. Read from the running sandbox. */
export function sandboxCredentials(
  sandbox: RunningSandbox,
  mchId: string,
  keyMode: V3KeyMode,
): Pick<V3GatewayOptions, "privateKey" | "serialNo" | "keyMode" | "publicKey" | "baseUrl" | "allowHttpNotifyUrl"> {
  const identity = sandbox.context.v3.get(mchId);
  if (identity === undefined) throw new Error(`the sandbox has no v3 merchant ${mchId}`);
  const privateKey = identity.merchantCertificate.privateKeyPem;
  if (privateKey === undefined) throw new Error(`the sandbox did not generate the key of ${mchId}`);
  const publicKey = keyMode === "platform-certificate" || identity.publicKey === undefined ? undefined : { id: identity.publicKey.id, pem: identity.publicKey.publicKeyPem };
  return { privateKey, serialNo: identity.merchantCertificate.serial, keyMode, publicKey, baseUrl: sandbox.url, allowHttpNotifyUrl: true };
}

/** What `wx.requestPayment` would do with the params: the sandbox checks paySign over `appId` and pays. */
export async function payAtSandbox(sandbox: RunningSandbox, prepayId: string, appId: string, payment: RequestPaymentParams): Promise<void> {
  const answer = await fetch(`${sandbox.url}/sandbox/pay`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prepay_id: prepayId, outcome: "success", payment: { appId, ...payment } }),
  });
  expect(answer.status, await answer.clone().text()).toBe(200);
}

/** Queues faults on the sandbox's control API for the next `times` gateway requests on `path`. */
export async function queueFault(sandbox: RunningSandbox, path: string, fault: Record<string, unknown>, times = 1): Promise<void> {
  const answer = await fetch(`${sandbox.url}/sandbox/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ path, faults: [fault], times }),
  });
  expect(answer.status, await answer.clone().text()).toBeLessThan(300);
}

export async function clearFaults(sandbox: RunningSandbox): Promise<void> {
  await fetch(`${sandbox.url}/sandbox/faults`, { method: "DELETE" });
}

/** A transport over Node's fetch that records each request's method, path and headers. */
export function recordingTransport(): { transport: V3Transport; sent: { method: string; path: string; headers: Readonly<Record<string, string>>; body: string | undefined }[] } {
  const sent: { method: string; path: string; headers: Readonly<Record<string, string>>; body: string | undefined }[] = [];
  const transport: V3Transport = async ({ url, method, headers, body, signal }): Promise<V3HttpAnswer> => {
    const parsed = new URL(url);
    sent.push({ method, path: `${parsed.pathname}${parsed.search}`, headers, body });
    const response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }), signal });
    return { status: response.status, headers: response.headers, body: new Uint8Array(await response.arrayBuffer()) };
  };
  return { transport, sent };
}

export interface ReceivedNotify {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Uint8Array;
  readonly status: number;
}

/** A local notify receiver: `answer` decides each reply from the raw bytes; every delivery is kept. */
export async function startNotifyReceiver(
  answer: (path: string, body: Uint8Array, headers: IncomingHttpHeaders) => { status: number; contentType: string; body: string },
): Promise<{ url: string; received: ReceivedNotify[]; close(): Promise<void> }> {
  const received: ReceivedNotify[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = new Uint8Array(Buffer.concat(chunks));
      const reply = answer(req.url ?? "/", body, req.headers);
      received.push({ path: req.url ?? "/", headers: req.headers, body, status: reply.status });
      res.writeHead(reply.status, { "content-type": reply.contentType });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Polls `check` (real time) until it holds, for at most `ms`. */
export async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The API's key-file variables for a merchant whose keys the sandbox wrote (`v3KeysDir/<mchid>/`, like the
 * merchant platform's downloads): the private key and certificate, and with `publicKey` the WeChat Pay
 * public key and its ID.
 */
export function sandboxKeyFileEnv(keysDir: string, mchId: string, options: { readonly publicKey: boolean }): Record<string, string> {
  const folder = join(keysDir, mchId);
  return {
    WXPAY_CERT_KEY_PATH: join(folder, "apiclient_key.pem"),
    WXPAY_CERT_PATH: join(folder, "apiclient_cert.pem"),
    ...(options.publicKey ? { WXPAY_PUBLIC_KEY_ID: readFileSync(join(folder, "pub_key_id.txt"), "utf8").trim(), WXPAY_PUBLIC_KEY_PATH: join(folder, "wxp_pub.pem") } : {}),
  };
}
