// A platform-certificate merchant whose certificate WeChat Pay rotates in the middle of a run, on both
// databases, against the real sandbox: answers, queries and notifies signed by the new certificate keep
// working, because the adapter downloads /v3/certificates again on the unknown serial, but never more than
// once a minute (the clock is the test's, so the minute passes at once). A notify refused in that minute
// is recovered by the query and by WeChat Pay's redelivery.
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { OrderPaymentResponseSchema, type OrderPaymentResponse } from "@pay/core/contract";
import { createSandboxControlClient, type SandboxControlClient } from "@pay/sandbox/control";
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { ADMIN_TOKEN, SESSION_SECRET, V3_CERTIFICATE } from "@pay/test-kit/merchants";
import { freePort } from "@pay/test-kit/ports";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { seedProducts } from "../../src/db/migrate.js";
import { DEFAULT_PRODUCTS } from "../../src/db/products.js";
import { loadConfig } from "../../src/env.js";
import { createLoginClient, type LoginClient } from "../../src/gateway/login-client.js";
import { createV3Gateway, type V3Gateway } from "../../src/gateway/v3/gateway.js";
import { createLogger } from "../../src/logging.js";
import { createHttpServer } from "../../src/server.js";
import { eventually } from "../support/api-harness.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "../support/databases.js";
import { recordingTransport, sandboxCredentials } from "../support/v3-gateway.js";

const APP_SECRET = "secret-v3-certificate";
const MERCHANT = { ...V3_CERTIFICATE, appSecrets: { [V3_CERTIFICATE.appId]: APP_SECRET } };
/** The adapter's least gap between certificate downloads (its default), and a bit. */
const A_MINUTE_LATER = 61_000;

describe.each(DATABASES)("platform certificate rotated in the middle of a run on %s", (kind) => {
  let dir: string;
  let database: TestDatabase;
  let sandbox: RunningSandbox;
  let control: SandboxControlClient;
  let gateway: V3Gateway;
  let login: LoginClient;
  let server: Server;
  let url: string;
  let token: string | undefined;
  const sent: string[] = [];
  /** The API's clock (services and adapter): real time plus what the test moved it by. */
  let offset = 0;
  const now = (): number => Date.now() + offset;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pay-v3-rotation-"));
    database = await openTestDatabase(kind);
    await seedProducts(database.db, DEFAULT_PRODUCTS);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    sandbox = await startSandbox({ merchants: [MERCHANT], v3KeysDir: join(dir, "keys"), allowHttpNotifyUrl: true, notify: { retryScale: 0.001, timeoutMs: 3000 } });
    control = createSandboxControlClient({ baseUrl: sandbox.url });
    const destination = new Writable({
      write(_chunk: Buffer, _encoding, done) {
        done();
      },
    });
    const logger = createLogger({ level: "info", destination, name: "pay-api" });
    const credentials = sandboxCredentials(sandbox, MERCHANT.mchId, "platform-certificate");
    const recording = recordingTransport();
    gateway = createV3Gateway({
      account: "domestic",
      appId: MERCHANT.appId,
      mchId: MERCHANT.mchId,
      apiV3Key: MERCHANT.v3.apiV3Key,
      ...credentials,
      transport: (request) => {
        sent.push(new URL(request.url).pathname);
        return recording.transport(request);
      },
      now,
      logger,
    });
    await gateway.start();
    login = createLoginClient({ baseUrl: sandbox.url, appId: MERCHANT.appId, appSecret: APP_SECRET, logger });
    const keys = join(dir, "keys", MERCHANT.mchId);
    const config = loadConfig({
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: database.url,
      WXPAY_API_VERSION: "v3",
      WXPAY_BASE_URL: sandbox.url,
      WXPAY_APPID: MERCHANT.appId,
      WXPAY_MCHID: MERCHANT.mchId,
      WXPAY_APIV3_KEY: MERCHANT.v3.apiV3Key,
      WXPAY_CERT_KEY_PATH: join(keys, "apiclient_key.pem"),
      WXPAY_CERT_PATH: join(keys, "apiclient_cert.pem"),
      WXPAY_NOTIFY_URL: `${url}/wxpay/v3/notify`,
      WXPAY_REFUND_NOTIFY_URL: `${url}/wxpay/v3/refund-notify`,
      WX_API_BASE_URL: sandbox.url,
      WX_APPSECRET: APP_SECRET,
      SESSION_SECRET,
      ADMIN_TOKEN,
    });
    const { app } = createApp({ config, db: database.db, dialect: database.dialect, v3Gateway: gateway, apiVersion: "v3", login, logger, clock: now });
    server = createHttpServer(app);
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    const { code } = await control.createLoginCode({ appid: MERCHANT.appId, user: `rotation-${kind}` });
    token = ((await call("POST", "/api/session", { body: { code } })).body as { token: string }).token;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await gateway.close();
    await login.close();
    await sandbox.stop();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function call(method: string, path: string, options: { body?: unknown } = {}): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(`${url}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
    const text = await response.text();
    return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
  }

  const order = { items: [{ productId: "mug", quantity: 1 }] };

  async function place(): Promise<OrderPaymentResponse> {
    const placed = await call("POST", "/api/orders", { body: order });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    return OrderPaymentResponseSchema.parse(placed.body);
  }

  async function status(id: string): Promise<string> {
    return (await database.db.selectFrom("orders").select("status").where("id", "=", id).executeTakeFirstOrThrow()).status;
  }

  const paidSoon = (id: string) => eventually(async () => ((await status(id)) === "paid" ? true : undefined));
  const downloads = (): number => sent.filter((path) => path === "/v3/certificates").length;
  const certificates = (): number => sandbox.context.v3.get(MERCHANT.mchId)?.platformCertificates.length ?? 0;
  const pay = (placed: OrderPaymentResponse) => control.pay({ prepay_id: placed.payment.package.replace(/^prepay_id=/, ""), outcome: "success", payment: placed.payment });
  const deliveries = async (id: string) => (await control.listDeliveries({ out_trade_no: id })).deliveries;

  it("pays before any rotation with the certificate downloaded at start", async () => {
    expect(downloads()).toBe(1);
    const placed = await place();
    await pay(placed);
    await paidSoon(placed.order.id);
    expect(downloads()).toBe(1);
  });

  it("rotated by the control call: an answer signed by the new certificate is not used within the minute, then one download and orders pay again", async () => {
    await control.rotateV3Certificate({ mch_id: MERCHANT.mchId });
    expect(certificates()).toBe(2);
    // Within a minute of the start's download the unknown serial is not fetched: the unverifiable prepay answer is an invalid outcome.
    const early = await call("POST", "/api/orders", { body: order });
    expect(early.status, JSON.stringify(early.body)).toBe(502);
    expect(downloads()).toBe(1);
    offset += A_MINUTE_LATER;
    const placed = await place();
    expect(downloads()).toBe(2);
    expect(placed.payment.signType).toBe("RSA");
    // Its notify is signed by the new certificate, now known: no download.
    await pay(placed);
    await paidSoon(placed.order.id);
    expect(downloads()).toBe(2);
  });

  it("rotated by the `rotate` fault on the order call: the new certificate is fetched once and the order pays", async () => {
    offset += A_MINUTE_LATER;
    await control.addFault({ path: "/v3/pay/transactions/jsapi", faults: [{ kind: "rotate" }], times: 1 });
    const placed = await place();
    expect(certificates()).toBe(3);
    expect(downloads()).toBe(3);
    await pay(placed);
    await paidSoon(placed.order.id);
    expect(downloads()).toBe(3);
  });

  it("rotated between placing and paying, within the minute: the notify is refused, the query a minute later fetches the certificate and recovers the payment, the redelivery is a duplicate", async () => {
    const placed = await place();
    await control.rotateV3Certificate({ mch_id: MERCHANT.mchId });
    await pay(placed);
    const refused = await eventually(async () => (await deliveries(placed.order.id)).find((d) => d.outcome !== "acknowledged"));
    expect(refused).toMatchObject({ protocol: "v3", eventType: "TRANSACTION.SUCCESS", httpStatus: 401 });
    expect(await status(placed.order.id)).toBe("pending");
    expect(downloads()).toBe(3);
    // A minute later (and past ORDER_QUERY_AFTER_SECONDS), reading the order queries it: the answer's serial is fetched once.
    offset += A_MINUTE_LATER;
    const read = await call("GET", `/api/orders/${placed.order.id}`);
    expect(read.status).toBe(200);
    expect((read.body as { order: { status: string } }).order.status).toBe("paid");
    expect(downloads()).toBe(4);
    const acknowledged = await eventually(async () => (await deliveries(placed.order.id)).find((d) => d.outcome === "acknowledged"), 15_000);
    expect(acknowledged.httpStatus).toBe(200);
    const events = await database.db.selectFrom("payment_events").select("order_id").where("order_id", "=", placed.order.id).execute();
    expect(events).toHaveLength(1);
    expect(downloads()).toBe(4);
  });
});
