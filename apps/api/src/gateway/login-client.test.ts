import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { startSandbox, type FaultRuleInput, type RunningSandbox } from "@pay/sandbox";
import { DIRECT } from "@pay/test-kit/merchants";
import { createSandboxControlClient, type LoginCodeAnswer, type SandboxControlClient } from "@pay/sandbox/control";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../logging.js";
import { createLoginClient, type LoginClient, type LoginClientOptions } from "./login-client.js";

const MINI_APP_ID = DIRECT.appId;
const APP_SECRET = "secret-direct-0123456789abcdef";
const MERCHANT = { ...DIRECT, appSecrets: { [MINI_APP_ID]: APP_SECRET } };

let sandbox: RunningSandbox;
const clients: LoginClient[] = [];

function captureLogs(): { logger: ReturnType<typeof createLogger>; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return { logger: createLogger({ level: "trace", destination }), text: () => chunks.join("") };
}

function loginClient(options: Partial<LoginClientOptions> = {}): LoginClient {
  const client = createLoginClient({ baseUrl: sandbox.url, appId: MINI_APP_ID, appSecret: APP_SECRET, timeoutMs: 2000, logger: createLogger({ level: "silent" }), ...options });
  clients.push(client);
  return client;
}

function control(): SandboxControlClient {
  return createSandboxControlClient({ baseUrl: sandbox.url });
}

/** What wx.login would hand the Mini Program for `user`. */
function loginCode(user: string): Promise<LoginCodeAnswer> {
  return control().createLoginCode({ appid: MINI_APP_ID, user });
}

async function queueFault(rule: FaultRuleInput): Promise<void> {
  await control().addFault(rule);
}

beforeAll(async () => {
  sandbox = await startSandbox({ merchants: [MERCHANT] });
});

afterEach(async () => {
  await control().clearFaults();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await sandbox.stop();
});

describe("createLoginClient", () => {
  it.each([
    ["no appId", { appId: "" }, /appId/],
    ["no appSecret", { appSecret: "" }, /appSecret/],
    ["a bad base URL", { baseUrl: "api.weixin.qq.com" }, /baseUrl/],
    ["a zero timeout", { timeoutMs: 0 }, /timeoutMs/],
    ["no logger", { logger: undefined as never }, /logger/],
  ] as const)("throws at construction on %s", (_name, patch, message) => {
    const base = { appId: MINI_APP_ID, appSecret: APP_SECRET, logger: createLogger({ level: "silent" }) };
    expect(() => createLoginClient({ ...base, ...patch })).toThrow(message);
  });

  it("trades a code for the openid and returns nothing else (no session_key)", async () => {
    const logs = captureLogs();
    const issued = await loginCode("alice");
    const result = await loginClient({ logger: logs.logger }).code2Session(issued.code);
    expect(result).toStrictEqual({ ok: true, openid: issued.openid });
    const text = logs.text();
    expect(text).toContain('"outcome":"ok"');
    expect(text).not.toContain(APP_SECRET);
    expect(text).not.toContain(issued.code);
    expect(text).not.toContain("session_key");
  });

  it("rejects a code used twice (40163)", async () => {
    const client = loginClient();
    const { code } = await loginCode("bob");
    expect((await client.code2Session(code)).ok).toBe(true);
    expect(await client.code2Session(code)).toMatchObject({ ok: false, error: { kind: "rejected", errcode: 40163 } });
  });

  it("rejects an unknown code (40029)", async () => {
    expect(await loginClient().code2Session("0a1b2c3d4e5f")).toMatchObject({ ok: false, error: { kind: "rejected", errcode: 40029 } });
  });

  it("rejects when the app secret is wrong (40125), and never logs either secret", async () => {
    const logs = captureLogs();
    const { code } = await loginCode("carol");
    const wrongSecret = "wrong-secret-9876543210";
    const result = await loginClient({ appSecret: wrongSecret, logger: logs.logger }).code2Session(code);
    expect(result).toMatchObject({ ok: false, error: { kind: "rejected", errcode: 40125 } });
    expect(logs.text()).not.toContain(wrongSecret);
    expect(logs.text()).not.toContain(APP_SECRET);
  });

  it("refuses a malformed code without calling WeChat", async () => {
    expect(await loginClient().code2Session("")).toMatchObject({ ok: false, error: { kind: "rejected" } });
    expect(await loginClient().code2Session("has space")).toMatchObject({ ok: false, error: { kind: "rejected" } });
  });

  it("answers unavailable on a system error (-1), and the code still works afterwards", async () => {
    const client = loginClient();
    const { code, openid } = await loginCode("dave");
    await queueFault({ path: "/sns/jscode2session", faults: [{ kind: "systemerror" }], times: 1 });
    expect(await client.code2Session(code)).toMatchObject({ ok: false, error: { kind: "unavailable", errcode: -1 } });
    expect(await client.code2Session(code)).toStrictEqual({ ok: true, openid });
  });

  it("answers unavailable on a 5xx page", async () => {
    const { code } = await loginCode("erin");
    await queueFault({ path: "/sns/jscode2session", faults: [{ kind: "http", status: 502 }], times: 1 });
    const result = await loginClient().code2Session(code);
    expect(result).toMatchObject({ ok: false, error: { kind: "unavailable" } });
    expect(!result.ok && result.error.message).toContain("502");
  });

  it("answers unavailable when WeChat does not answer in time", async () => {
    const { code } = await loginCode("frank");
    await queueFault({ path: "/sns/jscode2session", faults: [{ kind: "timeout" }], times: 1 });
    const result = await loginClient({ timeoutMs: 300 }).code2Session(code);
    expect(result).toMatchObject({ ok: false, error: { kind: "unavailable" } });
    expect(!result.ok && result.error.message).toContain("300 ms");
  });

  it("answers unavailable when WeChat cannot be reached, without the secret in the message", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const result = await loginClient({ baseUrl: `http://127.0.0.1:${port}` }).code2Session("0a1b2c3d4e5f");
    expect(result).toMatchObject({ ok: false, error: { kind: "unavailable" } });
    expect(!result.ok && result.error.message).not.toContain(APP_SECRET);
  });
});
