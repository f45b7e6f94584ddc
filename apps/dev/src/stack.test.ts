import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Product } from "@pay/core/contract";
import { ADMIN_TOKEN, MERCHANT, SESSION_SECRET } from "@pay/test-kit/merchants";
import { createSandboxControlClient, SANDBOX_CONTROL_PATHS } from "@pay/sandbox/control";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatBanner, STAFF_CREATE_COMMAND } from "./banner.js";
import { createApiClient } from "./api-client.js";
import { DevError } from "./errors.js";
import { MODE_PROFILES } from "./modes.js";
import { startDevStack, type DevStack } from "./stack.js";

const FREE_PORTS = { api: 0, sandbox: 0, gateway: 0, fulfilment: 0 } as const;
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
      // Order events go to the stack's fulfilment receiver, signed with a secret made for this start (not in the config file).
      expect(first.config.webhooks.endpoint?.url).toBe(first.fulfilment.url);
      expect(first.fulfilment.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhooks$/);
      expect(configText).not.toMatch(/^WEBHOOK_/m);
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
      expect(banner).toContain(`Webhooks     ${stack.fulfilment.url}`);
      expect(banner).toContain(`Console        ${stack.apiUrl}/console   the merchant console`);
      expect(banner).toContain(`create one with: ${STAFF_CREATE_COMMAND}`);
      expect(STAFF_CREATE_COMMAND).toBe("npx -y pnpm@10.34.9 --filter @pay/api staff create --username <name> --role operator");
      // @pay/console is a dependency of @pay/dev, so its build is there: the URL the banner prints answers the console.
      const consolePage = await fetch(`${stack.apiUrl}/console`);
      expect([consolePage.status, consolePage.headers.get("content-type")]).toEqual([200, "text/html; charset=utf-8"]);
      expect(consolePage.headers.get("content-security-policy")).toContain("script-src 'self'");
      expect(await consolePage.text()).toContain('<div id="root"></div>');
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

describe("startDevStack in the APIv3 modes", () => {
  const missing = { status: "missing", folder: undefined, detail: "apps/miniprogram is not in this checkout yet." } as const;

  async function placeOrder(stack: DevStack, productId: string) {
    const token = await signIn(stack);
    const created = await createApiClient(stack.apiUrl).call("createOrder", { body: { items: [{ productId, quantity: 1 }] }, token });
    if (!created.answer.ok) throw new Error(created.answer.error.message);
    return { token, ...created.answer.body };
  }

  it("--mode v3: a v3 config, the sandbox's key files under the data dir, public-key mode, RSA params; reused config on the next start", async () => {
    const first = await startDevStack({ mode: "v3", dataDir, ports: FREE_PORTS, logDestination: quiet });
    const keysDir = join(dataDir, "sandbox-v3-keys", "v3", MODE_PROFILES.v3.mchId);
    let configText: string;
    try {
      configText = await readFile(first.envFile.path, "utf8");
      expect(first.envFile).toMatchObject({ path: join(dataDir, "dev.v3.env"), created: true });
      expect(configText).toContain("WXPAY_API_VERSION=v3");
      expect(configText).not.toMatch(/^WXPAY_KEY=/m);
      expect(first.merchant).toMatchObject({ apiVersion: "v3", profile: "domestic", feeType: "CNY", subMchId: undefined });
      expect(first.config.apiVersion).toBe("v3");
      expect(first.config.v3).toMatchObject({ account: "domestic", mode: "public-key", merchantKeyPath: join(keysDir, "apiclient_key.pem") });
      expect(first.config.merchant.notifyUrl).toBe(`${first.apiUrl}/wxpay/v3/notify`);
      expect(first.config.merchant.refundNotifyUrl).toBe(`${first.apiUrl}/wxpay/v3/refund-notify`);
      expect(first.v3).toMatchObject({ keyMode: "public-key", account: "domestic", keysDir });
      expect(first.v3?.publicKeyId).toBe(first.sandbox.context.v3.get(MODE_PROFILES.v3.mchId)?.publicKey?.id);
      expect((await readdir(keysDir)).sort()).toEqual(expect.arrayContaining(["apiclient_cert.pem", "apiclient_key.pem", "pub_key_id.txt", "wxp_pub.pem"]));
      expect((await stat(join(keysDir, "apiclient_key.pem"))).mode & 0o777).toBe(0o600);
      const { payment } = await placeOrder(first, "tote");
      expect(payment.signType).toBe("RSA");

      const banner = formatBanner({ stack: first, miniProgram: missing, products: [{ id: "mug", name: "Ceramic mug", price: 3990, currency: "CNY" }], cwd: dataDir });
      expect(banner).toContain("v3 mode (APIv3 domestic direct merchant, CNY, WeChat Pay public-key mode)");
      expect(banner).toContain(`Notify URLs  ${first.apiUrl}/wxpay/v3/notify, ${first.apiUrl}/wxpay/v3/refund-notify`);
      expect(banner).toContain(`APIv3 keys   ${join("sandbox-v3-keys", "v3", MODE_PROFILES.v3.mchId)} (generated by the sandbox at this start)`);
      expect(banner).toContain(`Key mode     public-key: answers and notifies verified with WeChat Pay public key ${first.v3?.publicKeyId ?? "?"} (wxp_pub.pem)`);
      expect(banner).toContain("APIv3 (paySign RSA)");
      expect(banner).not.toContain("mutual TLS");
      expect(banner).toContain(`PAY=$(echo "$ORDER" | node -pe`);
      expect(banner).toContain("payment: o.payment");
      expect(banner).toContain("paid once the notify arrived (at /wxpay/v3/notify)");
      expect(banner).toContain("places a signed APIv3 JSAPI order");
      expect(banner).not.toContain("unifiedorder");
      expect(banner).toContain("--mode domestic|global|institutional|v3|v3-partner|v3-global");
    } finally {
      await first.stop();
    }

    const second = await startDevStack({ mode: "v3", dataDir, ports: FREE_PORTS, logDestination: quiet });
    try {
      expect(second.envFile.created).toBe(false);
      expect(await readFile(second.envFile.path, "utf8")).toBe(configText);
      // Fresh keys at each start (the sandbox's state is new too), written where the API reads them.
      expect(second.v3?.publicKeyId).toBe(second.sandbox.context.v3.get(MODE_PROFILES.v3.mchId)?.publicKey?.id);
      expect((await placeOrder(second, "mug")).payment.signType).toBe("RSA");
    } finally {
      await second.stop();
    }
  });

  it("--mode v3-partner: a service provider in platform-certificate mode; the buyer signs in to the sub-merchant's Mini Program", async () => {
    const stack = await startDevStack({ mode: "v3-partner", dataDir, ports: FREE_PORTS, logDestination: quiet });
    const profile = MODE_PROFILES["v3-partner"];
    try {
      expect(stack.merchant).toMatchObject({ apiVersion: "v3", mchId: profile.mchId, subMchId: profile.subMchId, miniProgramAppId: profile.subAppId });
      expect(stack.config.v3).toMatchObject({ account: "domestic", mode: "platform-certificate", publicKey: undefined });
      expect(stack.v3).toMatchObject({ keyMode: "platform-certificate", publicKeyId: undefined });
      expect(await readdir(stack.v3?.keysDir ?? "")).toEqual(expect.arrayContaining([expect.stringMatching(/^wechatpay_[0-9A-F]+\.pem$/)]));
      const { order, payment } = await placeOrder(stack, "mug");
      expect(payment.signType).toBe("RSA");
      const gatewayOrder = stack.sandbox.context.store.allOrders().find((o) => o.outTradeNo === order.id);
      expect(gatewayOrder).toMatchObject({ mchId: profile.mchId, subMchId: profile.subMchId, subAppId: profile.subAppId });
      const banner = formatBanner({ stack, miniProgram: missing, products: [], cwd: dataDir });
      expect(banner).toContain("Key mode     platform-certificate: answers and notifies verified with platform certificates");
      expect(banner).toContain(`sub_mch_id ${profile.subMchId ?? ""}`);
      expect(banner).toContain("/v3/pay/..., /v3/refund/domestic/...");
    } finally {
      await stack.stop();
    }
  });

  it("--mode v3-global: a Global institution in HKD on the /v3/global paths", async () => {
    const stack = await startDevStack({ mode: "v3-global", dataDir, ports: FREE_PORTS, logDestination: quiet });
    try {
      expect(stack.merchant).toMatchObject({ apiVersion: "v3", profile: "global", feeType: "HKD", subMchId: MODE_PROFILES["v3-global"].subMchId });
      expect(stack.config.v3).toMatchObject({ account: "global", merchantCategoryCode: "5812" });
      const { order, payment } = await placeOrder(stack, "mug");
      expect(payment.signType).toBe("RSA");
      expect(order.feeType).toBe("HKD");
      const banner = formatBanner({ stack, miniProgram: missing, products: [{ id: "mug", name: "Ceramic mug", price: 3990, currency: "HKD" }], cwd: dataDir });
      expect(banner).toContain("APIv3 (/v3/global/...)");
      expect(banner).toContain("mug HK$39.90");
    } finally {
      await stack.stop();
    }
  });

  it("runs a v3 env file of your own: WXPAY_API_VERSION=v3 sets a v3 mode, WXPAY_PLATFORM_CERTIFICATES=off public-key mode", async () => {
    const file = join(dataDir, "mine-v3.env");
    await writeFile(
      file,
      [
        "WXPAY_API_VERSION=v3",
        "WXPAY_APPID=wx1234567890abcdef",
        "WXPAY_MCHID=1900000556",
        "WXPAY_APIV3_KEY=0123456789abcdefghijklmnopqrstuv",
        "WXPAY_PLATFORM_CERTIFICATES=off",
        "WXPAY_CERT_KEY_PATH=/nowhere/apiclient_key.pem",
        "WXPAY_CERT_PATH=/nowhere/apiclient_cert.pem",
        "WX_APPSECRET=0123456789abcdef0123456789abcdef",
        `SESSION_SECRET=${SESSION_SECRET}`,
        `ADMIN_TOKEN=${ADMIN_TOKEN}`,
        "",
      ].join("\n"),
    );
    const stack = await startDevStack({ envFile: file, dataDir, ports: FREE_PORTS, logDestination: quiet });
    try {
      expect(stack.mode).toBe("v3");
      expect(stack.v3?.keyMode).toBe("public-key");
      expect(stack.overridden).toEqual(["WXPAY_CERT_PATH", "WXPAY_CERT_KEY_PATH"]);
      expect((await placeOrder(stack, "mug")).payment.signType).toBe("RSA");
    } finally {
      await stack.stop();
    }
  });
});
