// The create-order contender of the orders benchmark: a Koa POST /api/orders handler as a shop would write it
// on tenpay 2.1.18 (`getPayParams`, which runs `unifiedOrder` and signs the requestPayment params), with the
// same SQLite insert of the order as @pay/api (the API's own schema, migrated by the API's migrations, on a real
// file), against the same sandbox, for the same JSON body and the same bearer session token.
//
// tenpay takes no base URL: its endpoints are the plain `urls` object its constructor fills in. The contender
// points `urls.unifiedorder` at the sandbox after construction, the one change to tenpay; everything else
// (urllib, xml2js, the signing) runs as shipped.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import Router from "@koa/router";
import { DEFAULT_PRODUCTS, migrateToLatest, openDatabase, seedProducts } from "@pay/api/db";
import BetterSqlite3 from "better-sqlite3";
import Koa from "koa";
import getRawBody from "raw-body";
import Tenpay from "tenpay";

export const CREATE_ORDER_PATH = "/api/orders";
const MAX_BODY_BYTES = 64 * 1024;
const ORDER_TTL_MS = 30 * 60 * 1000;
/** tenpay's answer carries no expiry; WeChat Pay keeps a prepay id for two hours. */
const PREPAY_TTL_MS = 2 * 60 * 60 * 1000;
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;

export interface TenpayCreateOptions {
  /** The sandbox (WeChat Pay's stand-in) the API also calls. */
  readonly sandboxUrl: string;
  /** A SQLite file migrated by @pay/api's migrations, with its products and users. */
  readonly dbFile: string;
  /** The API's SESSION_SECRET: the contender accepts the API's bearer tokens. */
  readonly sessionSecret: string;
  readonly merchant: { readonly appId: string; readonly mchId: string; readonly key: string; readonly signType: "MD5" | "HMAC-SHA256" };
  readonly notifyUrl: string;
}

export interface TenpayCreateApp {
  readonly app: Koa;
  close(): void;
}

/** yyyyMMddHHmmss in Beijing time, as time_start / time_expire want it. */
function beijingCompact(ms: number): string {
  return new Date(ms + BEIJING_OFFSET_MS).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/** The user id of a valid, unexpired `<payload>.<mac>` token (HMAC-SHA256 over the base64url JSON payload). */
function sessionUser(secret: string, header: string, now: number): string | undefined {
  const token = header.startsWith("Bearer ") ? header.slice(7) : "";
  const [payload, signature, extra] = token.split(".");
  if (payload === undefined || signature === undefined || extra !== undefined) return undefined;
  const given = Buffer.from(signature, "base64url");
  const expected = createHmac("sha256", secret).update(payload).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { u?: unknown; e?: unknown };
  return typeof claims.u === "string" && typeof claims.e === "number" && claims.e > now ? claims.u : undefined;
}

interface Line {
  readonly productId: string;
  readonly quantity: number;
}

function readLines(body: unknown): Line[] | undefined {
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items) || items.length === 0 || items.length > 50) return undefined;
  const lines: Line[] = [];
  for (const item of items as unknown[]) {
    const { productId, quantity } = (item ?? {}) as { productId?: unknown; quantity?: unknown };
    if (typeof productId !== "string" || !Number.isInteger(quantity) || (quantity as number) < 1 || (quantity as number) > 99) return undefined;
    lines.push({ productId, quantity: quantity as number });
  }
  return lines;
}

/** Creates the contender's database: @pay/api's schema (its migrations), its catalogue, and these users (rows as the API made them at sign-in). */
export async function prepareTenpayCreateDatabase(file: string, users: ReadonlyArray<{ readonly id: string; readonly openid: string }>): Promise<void> {
  const opened = await openDatabase(file);
  const { db } = opened;
  try {
    await migrateToLatest(db);
    await seedProducts(db, DEFAULT_PRODUCTS);
    const createdAt = new Date().toISOString();
    if (users.length > 0)
      await db
        .insertInto("users")
        .values(users.map((u) => ({ id: u.id, openid: u.openid, created_at: createdAt })))
        .execute();
  } finally {
    await opened.close();
  }
}

export function createTenpayCreateApp(options: TenpayCreateOptions): TenpayCreateApp {
  const { merchant } = options;
  const payment = new Tenpay({ appid: merchant.appId, mchid: merchant.mchId, partnerKey: merchant.key, notify_url: options.notifyUrl, spbill_create_ip: "127.0.0.1" });
  payment.urls.unifiedorder = `${options.sandboxUrl}/pay/unifiedorder`;

  const db = new BetterSqlite3(options.dbFile);
  // The API's pragmas (db/database.ts).
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  db.pragma("foreign_keys = ON");
  db.pragma("synchronous = NORMAL");
  const userOpenid = db.prepare<[string], { openid: string }>("select openid from users where id = ?");
  const product = db.prepare<[string], { id: string; name: string; price: number; currency: string }>("select id, name, price, currency from products where id = ? and active = 1");
  const insertOrder = db.prepare(
    "insert into orders (id, user_id, status, total_fee, fee_type, items, body, idempotency_key, request_hash, appid, mch_id, sub_appid, sub_mch_id, openid, sub_openid, " +
      "sign_type, spbill_create_ip, notify_url, time_start, time_expire, prepay_id, prepay_expires_at, transaction_id, paid_at, closed_at, expires_at, last_queried_at, " +
      "created_at, updated_at, protocol) values (@id, @user_id, 'pending', @total_fee, 'CNY', @items, @body, null, null, @appid, @mch_id, null, null, @openid, null, " +
      "@sign_type, '127.0.0.1', @notify_url, @time_start, @time_expire, null, null, null, null, null, @expires_at, null, @now, @now, 'v2')",
  );
  const setPrepay = db.prepare("update orders set prepay_id = ?, prepay_expires_at = ?, updated_at = ? where id = ?");

  const router = new Router();
  router.post(CREATE_ORDER_PATH, async (ctx) => {
    const now = Date.now();
    const userId = sessionUser(options.sessionSecret, ctx.get("authorization"), now);
    const openid = userId === undefined ? undefined : userOpenid.get(userId)?.openid;
    if (userId === undefined || openid === undefined) {
      ctx.status = 401;
      ctx.body = { error: { code: "UNAUTHORIZED" } };
      return;
    }
    let lines: Line[] | undefined;
    try {
      lines = readLines(JSON.parse((await getRawBody(ctx.req, { limit: MAX_BODY_BYTES })).toString("utf8")));
    } catch {
      lines = undefined;
    }
    const priced = lines?.map((line) => ({ line, product: product.get(line.productId) }));
    if (priced === undefined || priced.some((p) => p.product === undefined || p.product.currency !== "CNY")) {
      ctx.status = 400;
      ctx.body = { error: { code: "VALIDATION_FAILED" } };
      return;
    }
    const items = priced.map(({ line, product: p }) => ({ productId: line.productId, name: p?.name ?? "", quantity: line.quantity, unitPrice: p?.price ?? 0 }));
    const total = items.reduce((sum, item) => sum + item.unitPrice * item.quantity, 0);
    const units = items.reduce((n, item) => n + item.quantity, 0);
    const body = units > 1 ? `${items[0]?.name ?? "Order"} x${units}` : (items[0]?.name ?? "Order");
    const id = `P${beijingCompact(now)}${randomBytes(5).toString("hex").toUpperCase()}`;
    const expiresAt = now + ORDER_TTL_MS;
    const order = {
      id,
      user_id: userId,
      total_fee: total,
      items: JSON.stringify(items),
      body,
      appid: merchant.appId,
      mch_id: merchant.mchId,
      openid,
      sign_type: merchant.signType,
      notify_url: options.notifyUrl,
      time_start: beijingCompact(now),
      time_expire: beijingCompact(expiresAt),
      expires_at: new Date(expiresAt).toISOString(),
      now: new Date(now).toISOString(),
    };
    insertOrder.run(order);
    let params: Tenpay.PayParams;
    try {
      params = await payment.getPayParams({
        out_trade_no: id,
        body,
        total_fee: total,
        fee_type: "CNY",
        openid,
        time_start: order.time_start,
        time_expire: order.time_expire,
        sign_type: merchant.signType,
      });
    } catch (error) {
      ctx.status = 502;
      ctx.body = { error: { code: "GATEWAY_FAILED", message: (error as Error).message } };
      return;
    }
    const prepayId = params.package.replace(/^prepay_id=/, "");
    setPrepay.run(prepayId, new Date(now + PREPAY_TTL_MS).toISOString(), new Date().toISOString(), id);
    ctx.status = 201;
    ctx.body = { order: { id, status: "pending", totalFee: total, feeType: "CNY", items, createdAt: order.now, expiresAt: order.expires_at }, payment: params };
  });
  const app = new Koa();
  app.use(router.routes());
  return { app, close: () => db.close() };
}
