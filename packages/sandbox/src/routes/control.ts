import Router from "@koa/router";
import type { Context } from "koa";
import { z } from "zod";
import type { SandboxContext } from "../context.js";
import { FaultRuleSchema, type FaultInjector } from "../faults/faults.js";
import { readRawBody, replyJson } from "../http.js";
import { payByPrepayId, settleRefund } from "../state/payments.js";
import type { SandboxOrder } from "../state/types.js";

const PayRequestSchema = z.object({ prepay_id: z.string().min(1).max(64), outcome: z.enum(["success", "cancel", "fail"]) }).strict();
const LoginCodeRequestSchema = z.object({ appid: z.string().min(1), user: z.string().min(1).max(64).default("demo-user") }).strict();
const SettleRefundSchema = z
  .object({ mch_id: z.string().min(1), sub_mch_id: z.string().optional(), out_refund_no: z.string().min(1), status: z.enum(["SUCCESS", "CHANGE", "REFUNDCLOSE"]) })
  .strict();

function badRequest(ctx: Context, message: string): void {
  replyJson(ctx, 400, { error: { code: "BAD_REQUEST", message } });
}

async function readJson<T>(ctx: Context, schema: z.ZodType<T>): Promise<T | undefined> {
  const body = await readRawBody(ctx, 64 * 1024);
  if (!body.ok) {
    badRequest(ctx, "The body is too large or was cut off.");
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(body.body.toString("utf8") || "{}");
  } catch {
    badRequest(ctx, "The body is not JSON.");
    return undefined;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    badRequest(ctx, `Field ${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`);
    return undefined;
  }
  return parsed.data;
}

/** An order as the control API shows it (the gateway's view, snake_case like the protocol). */
export function orderView(order: SandboxOrder): Record<string, unknown> {
  return {
    mch_id: order.mchId,
    sub_mch_id: order.subMchId ?? null,
    out_trade_no: order.outTradeNo,
    body: order.body,
    openid: order.openid ?? null,
    sub_openid: order.subOpenid ?? null,
    total_fee: order.totalFee,
    fee_type: order.feeType,
    trade_state: order.tradeState,
    prepay_id: order.prepayId,
    transaction_id: order.transactionId ?? null,
    time_end: order.timeEnd ?? null,
    cash_fee: order.cashFee ?? null,
    cash_fee_type: order.cashFeeType ?? null,
    rate: order.rate ?? null,
    refunds: order.refunds.map((r) => ({ out_refund_no: r.outRefundNo, refund_id: r.refundId, refund_fee: r.refundFee, refund_status: r.status })),
  };
}

/** The control API that lets tests and the mini-program shim play the WeChat client and steer the gateway. */
export function createControlRouter(sandbox: SandboxContext, faults: FaultInjector): Router {
  const router = new Router({ prefix: "/sandbox" });

  router.get("/merchants", (ctx) => {
    replyJson(ctx, 200, {
      merchants: sandbox.options.merchants.map((m) => ({ appid: m.appId, mch_id: m.mchId, sub_appid: m.subAppId ?? null, sub_mch_id: m.subMchId ?? null, profile: m.profile })),
    });
  });

  router.post("/login-codes", async (ctx) => {
    const req = await readJson(ctx, LoginCodeRequestSchema);
    if (req === undefined) return;
    const known = sandbox.options.merchants.some((m) => m.appSecrets[req.appid] !== undefined);
    if (!known) return badRequest(ctx, `appid ${req.appid} has no app secret configured in the sandbox.`);
    const openid = sandbox.store.openidFor(req.appid, req.user);
    const code = sandbox.store.issueLoginCode(req.appid, openid, sandbox.clock.now() + sandbox.options.loginCodeTtlMs);
    replyJson(ctx, 201, { code: code.code, openid, expires_at: new Date(code.expiresAt).toISOString() });
  });

  router.post("/pay", async (ctx) => {
    const req = await readJson(ctx, PayRequestSchema);
    if (req === undefined) return;
    const result = payByPrepayId(sandbox, req.prepay_id, req.outcome);
    if (!result.ok) return replyJson(ctx, result.code === "PREPAY_NOT_FOUND" ? 404 : 409, { error: { code: result.code, message: result.errMsg }, errMsg: result.errMsg });
    replyJson(ctx, 200, { outcome: result.outcome, errMsg: result.errMsg, order: orderView(result.order) });
  });

  router.get("/orders", (ctx) => {
    const { out_trade_no: outTradeNo, mch_id: mchId } = ctx.query;
    const orders = sandbox.store
      .allOrders()
      .filter((o) => (typeof outTradeNo !== "string" || o.outTradeNo === outTradeNo) && (typeof mchId !== "string" || o.mchId === mchId));
    replyJson(ctx, 200, { orders: orders.map(orderView) });
  });

  router.get("/deliveries", (ctx) => {
    const outTradeNo = typeof ctx.query.out_trade_no === "string" ? ctx.query.out_trade_no : undefined;
    const kind = ctx.query.kind === "pay" || ctx.query.kind === "refund" ? ctx.query.kind : undefined;
    replyJson(ctx, 200, { deliveries: sandbox.store.deliveries({ outTradeNo, kind }) });
  });

  router.post("/refunds/settle", async (ctx) => {
    const req = await readJson(ctx, SettleRefundSchema);
    if (req === undefined) return;
    const refund = sandbox.store.findRefund(req.mch_id, req.sub_mch_id, req.out_refund_no);
    if (refund === undefined) return replyJson(ctx, 404, { error: { code: "REFUND_NOT_FOUND", message: `No refund ${req.out_refund_no}.` } });
    if (!settleRefund(sandbox, refund, req.status)) {
      return replyJson(ctx, 409, { error: { code: "REFUND_SETTLED", message: `Refund ${req.out_refund_no} is already ${refund.status}.` } });
    }
    replyJson(ctx, 200, { out_refund_no: refund.outRefundNo, refund_status: refund.status });
  });

  router.get("/faults", (ctx) => replyJson(ctx, 200, { faults: faults.list() }));
  router.post("/faults", async (ctx) => {
    const rule = await readJson(ctx, FaultRuleSchema);
    if (rule === undefined) return;
    replyJson(ctx, 201, { fault: faults.add(rule) });
  });
  router.delete("/faults", (ctx) => {
    faults.clear();
    ctx.status = 204;
  });

  return router;
}
