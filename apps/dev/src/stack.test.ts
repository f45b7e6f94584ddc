import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Product } from "@pay/core/contract";
import { ADMIN_TOKEN, MERCHANT, SESSION_SECRET } from "@pay/test-kit/merchants";
import { createSandboxControlClient, SANDBOX_CONTROL_PATHS } from "@pay/sandbox/control";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatBanner } from "./banner.js";
import { createApiClient } from "./api-client.js";
import { DevError } from "./errors.js";
import { startDevStack, type DevStack } from "./stack.js";

const FREE_PORTS = { api: 0, sandbox: 0, gateway: 0 } as const;
const quiet = { write: () => undefined };
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "pay-stack-test-"));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function signIn(stack: DevStack): Promise<string> {
  const { code } = await createSandboxControlClient({ baseUrl: stack.sandboxUrl }).createLoginCode({ appid: stack.merchant.miniProgramAppId });
  const session = await createApiClient(stack.apiUrl).call("createSession", { body: { code } });
  if (!session.answer.ok) throw new Error(session.answer.error.message);
  return session.answer.body.token;
}

async function occupy(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, port: address.port };
}

describe("startDevStack", () => {
  it("generates a private config on the first start and reuses it, the database and the PKI on the next", async () => {
    const first = await startDevStack({ mode: "domestic", dataDir, ports: FREE_PORTS, logDestination: quiet });
    let orderId: string;
    let token: string;
    const configText = await readFile(first.envFile.path, "utf8");
    try {
      expect(first.envFile).toMatchObject({ path: join(dataDir, "dev.domestic.env"), created: true });
      expect((await stat(first.envFile.path)).mode & 0o777).toBe(0o600);
      expect(first.pki.created).toBe(true);
      expect(first.databaseUrl).toBe(join(dataDir, "pay.domestic.db"));
      expect(first.gatewayUrl.startsWith("https://")).toBe(true);
      expect(first.config.merchant.notifyUrl).toBe(`${first.apiUrl}/wxpay/notify`);
      token = await signIn(first);
      const created = await createApiClient(first.apiUrl).call("createOrder", { body: { items: [{ productId: "tote", quantity: 1 }] }, token });
      if (!created.answer.ok) throw new Error(created.answer.error.message);
      orderId = created.answer.body.order.id;
    } finally {
      await first.stop();
    }

    const second = await startDevStack({ mode: "domestic", dataDir, ports: FREE_PORTS, logDestination: quiet });
    try {
      expect(second.envFile.created).toBe(false);
      expect(second.pki.created).toBe(false);
      expect(await readFile(second.envFile.path, "utf8")).toBe(configText);
      // Same SESSION_SECRET and the same database: the first run's session still finds the first run's order.
      const order = await createApiClient(second.apiUrl).call("getOrder", { id: orderId, token });
      expect(order.answer.ok && order.answer.body.order.id).toBe(orderId);
    } finally {
      await second.stop();
    }
  });

  it("prints a banner with the real URLs, the database, the config file and a curl walkthrough", async () => {
    const stack = await startDevStack({ mode: "institutional", dataDir, ports: FREE_PORTS, logDestination: quiet });
    try {
      const products: Product[] = [{ id: "mug", name: "Ceramic mug", price: 3990, currency: "HKD" }];
      const banner = formatBanner({
        stack,
        miniProgram: { status: "missing", folder: undefined, detail: "apps/miniprogram is not in this checkout yet." },
        products,
        cwd: dataDir,
      });
      expect(banner).toContain(`API          ${stack.apiUrl}`);
      expect(banner).toContain(`Sandbox      ${stack.sandboxUrl}`);
      expect(banner).toContain("pay.institutional.db (SQLite)");
      expect(banner).toContain("dev.institutional.env (generated now");
      expect(banner).toContain(`sub_mch_id ${stack.merchant.subMchId ?? ""}`);
      expect(banner).toContain(`${stack.sandboxUrl}${SANDBOX_CONTROL_PATHS.cashier}?prepay_id=`);
      expect(banner).toContain("Mini-program   apps/miniprogram is not in this checkout yet.");
      expect(banner).toContain(`"appid":"${stack.merchant.miniProgramAppId}"`);
      expect(banner).toContain(`-d '{"items":[{"productId":"mug","quantity":1}]}'`);
      expect(banner).toContain("mug HK$39.90");
    } finally {
      await stack.stop();
    }
  });

  it("names a busy port and the flag that moves it, before starting anything", async () => {
    const busy = await occupy();
    try {
      const error = await startDevStack({ mode: "domestic", dataDir, ports: { ...FREE_PORTS, api: busy.port }, logDestination: quiet }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DevError);
      expect((error as DevError).code).toBe("PORT_IN_USE");
      expect((error as DevError).message).toContain(`127.0.0.1:${busy.port} (the API) is already in use`);
      expect((error as DevError).message).toContain("--api-port");
      const sandboxBusy = await startDevStack({ mode: "domestic", dataDir, ports: { ...FREE_PORTS, sandbox: busy.port }, logDestination: quiet }).catch((e: unknown) => e);
      expect((sandboxBusy as DevError).message).toContain("--sandbox-port");
    } finally {
      await new Promise((resolve) => busy.server.close(resolve));
    }
  });

  it("runs an env file of your own: its merchant sets the mode, the stack sets its own URLs over the file's", async () => {
    const file = join(dataDir, "mine.env");
    await writeFile(
      file,
      [
        "WXPAY_APPID=wx1234567890abcdef",
        "WXPAY_MCHID=1900000555",
        `WXPAY_KEY=${MERCHANT.key}`,
        "WXPAY_FEE_TYPE=HKD",
        "WXPAY_BASE_URL=https://apihk.mch.weixin.qq.com",
        "WXPAY_NOTIFY_URL=https://pay.example.com/wxpay/notify",
        "WX_APPSECRET=0123456789abcdef0123456789abcdef",
        `SESSION_SECRET=${SESSION_SECRET}`,
        `ADMIN_TOKEN=${ADMIN_TOKEN}`,
        "",
      ].join("\n"),
    );
    const stack = await startDevStack({ envFile: file, dataDir, ports: FREE_PORTS, logDestination: quiet });
    try {
      expect(stack.mode).toBe("global");
      expect(stack.merchant).toMatchObject({ mchId: "1900000555", feeType: "HKD", profile: "global" });
      expect(stack.overridden).toEqual(["WXPAY_BASE_URL", "WXPAY_NOTIFY_URL"]);
      expect(stack.config.gateway.baseUrl).toBe(stack.gatewayUrl);
      expect(stack.databaseUrl).toBe(join(dataDir, "pay.global.db"));
      expect(await signIn(stack)).not.toBe("");
    } finally {
      await stack.stop();
    }
  });

  it("refuses an env file with a bad variable before starting anything, naming the file and the variable", async () => {
    const file = join(dataDir, "bad.env");
    await writeFile(file, "WXPAY_APPID=wx1\nWXPAY_MCHID=1\nWXPAY_KEY=too-short\n");
    const error = await startDevStack({ envFile: file, dataDir, ports: FREE_PORTS, logDestination: quiet }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DevError);
    expect((error as DevError).code).toBe("INVALID_CONFIG");
    expect((error as DevError).message).toContain(file);
    expect((error as DevError).message).toContain("WXPAY_KEY");
    const missing = await startDevStack({ envFile: join(dataDir, "nope.env"), dataDir, ports: FREE_PORTS, logDestination: quiet }).catch((e: unknown) => e);
    expect((missing as DevError).code).toBe("ENV_FILE");
  });
});
