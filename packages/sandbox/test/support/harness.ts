import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { buildXml, generateNonceStr, parseXml, signParams, type SignType, type XmlFields } from "@pay/core";
import { DIRECT, GLOBAL, INSTITUTION } from "@pay/test-kit/merchants";
import { createSandboxControlClient, SandboxControlError, type SandboxControlClient } from "../../src/control/client.js";
import { SANDBOX_CONTROL_ROUTES } from "../../src/control/routes.js";
import { startSandbox, type RunningSandbox, type StartSandboxOptions } from "../../src/server.js";

// The gateway tests' merchants live in @pay/test-kit, beside the API's.
export { DIRECT, GLOBAL, INSTITUTION };

/** A notify receiver on an ephemeral port: records each body and answers with `reply` (SUCCESS by default). */
export interface Receiver {
  readonly url: string;
  readonly bodies: string[];
  reply: (body: string, index: number) => { status: number; body: string; delayMs?: number };
  close(): Promise<void>;
}

export const SUCCESS_REPLY = "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>";

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function startReceiver(): Promise<Receiver> {
  const bodies: string[] = [];
  const receiver: Receiver = {
    url: "",
    bodies,
    reply: () => ({ status: 200, body: SUCCESS_REPLY }),
    close: () => Promise.resolve(),
  };
  const server: Server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const index = bodies.push(body) - 1;
      const answer = receiver.reply(body, index);
      const send = (): void => {
        res.writeHead(answer.status, { "content-type": "text/xml" });
        res.end(answer.body);
      };
      if (answer.delayMs !== undefined) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/wxpay/notify`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** Signs and posts a v2 request to the sandbox; returns the HTTP status, raw body and parsed fields. */
export async function callGateway(
  sandbox: RunningSandbox,
  path: string,
  fields: Record<string, string | number | undefined>,
  options: { key: string; signType?: SignType; headers?: Record<string, string>; sign?: boolean } = { key: DIRECT.key },
): Promise<{ status: number; text: string; bytes: Buffer; fields: XmlFields | undefined }> {
  const signType = options.signType ?? "MD5";
  const message: Record<string, string | number | undefined> = { nonce_str: generateNonceStr(), ...fields };
  if (signType === "HMAC-SHA256") message.sign_type = "HMAC-SHA256";
  if (options.sign !== false) message.sign = signParams(message, { key: options.key, signType });
  const response = await fetch(`${sandbox.url}${path}`, { method: "POST", body: buildXml(message), headers: { "content-type": "text/xml", ...options.headers } });
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = bytes.toString("utf8");
  const parsed = parseXml(text);
  return { status: response.status, text, bytes, fields: parsed.ok ? parsed.value : undefined };
}

/** The fields of a valid direct-mode JSAPI unifiedorder. */
export function orderFields(overrides: Record<string, string | number | undefined> = {}): Record<string, string | number | undefined> {
  return {
    appid: DIRECT.appId,
    mch_id: DIRECT.mchId,
    body: "测试商店-会员充值",
    out_trade_no: `T${Date.now()}${Math.floor(Math.random() * 1e6)}`,
    total_fee: 100,
    spbill_create_ip: "127.0.0.1",
    notify_url: "https://example.com/wxpay/notify",
    trade_type: "JSAPI",
    openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    ...overrides,
  };
}

export async function withSandbox<T>(options: Partial<StartSandboxOptions>, run: (sandbox: RunningSandbox) => Promise<T>): Promise<T> {
  const sandbox = await startSandbox({ merchants: [DIRECT, GLOBAL, INSTITUTION], requireClientCert: false, ...options });
  try {
    return await run(sandbox);
  } finally {
    await sandbox.stop();
  }
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs` of real time. */
export async function waitFor<T>(check: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`waitFor: condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Places a unifiedorder and returns its prepay_id (throws when the sandbox refuses it). */
export async function placeOrder(sandbox: RunningSandbox, fields: Record<string, string | number | undefined>, key = DIRECT.key, signType: SignType = "MD5"): Promise<string> {
  const answer = await callGateway(sandbox, "/pay/unifiedorder", fields, { key, signType });
  const prepayId = answer.fields?.prepay_id;
  if (answer.fields?.result_code !== "SUCCESS" || prepayId === undefined) throw new Error(`unifiedorder refused: ${answer.text}`);
  return prepayId;
}

/** The control API client of a running sandbox. */
export function controlOf(sandbox: RunningSandbox): SandboxControlClient {
  return createSandboxControlClient({ baseUrl: sandbox.url });
}

/** Plays the payer through the control API. */
export async function pay(
  sandbox: RunningSandbox,
  prepayId: string,
  outcome: "success" | "cancel" | "fail" = "success",
): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    return { status: SANDBOX_CONTROL_ROUTES.pay.status, body: await controlOf(sandbox).pay({ prepay_id: prepayId, outcome }) };
  } catch (error) {
    // Tests of refused payments read the error answer's status and body.
    if (error instanceof SandboxControlError && error.status !== undefined) return { status: error.status, body: error.body as Record<string, unknown> };
    throw error;
  }
}
