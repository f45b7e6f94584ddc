import Router from "@koa/router";
import type { Context } from "koa";
import type { z } from "zod";
import type { SandboxContext } from "../context.js";
import { SANDBOX_CONTROL_ROUTES, type SandboxControlAnswer, type SandboxControlCall } from "../control/routes.js";
import { SANDBOX_CONTROL_ERROR_STATUS, type ControlErrorAnswer, type SandboxControlErrorCode, type SandboxOrderView } from "../control/schemas.js";
import type { FaultInjector } from "../faults/faults.js";
import { readRawBody, replyJson } from "../http.js";
import { createForeignPayment, createForeignRefund } from "../state/foreign.js";
import { payByPrepayId, settleRefund } from "../state/payments.js";
import type { SandboxOrder, SandboxRefund } from "../state/types.js";
import { checkV3Payment } from "../v3/pay.js";
import { V3_REFUND_STATUS_OF } from "../v3/views.js";

const MAX_CONTROL_BODY_BYTES = 64 * 1024;

/** An error answer with the status its code maps to. */
function replyError(ctx: Context, code: SandboxControlErrorCode, message: string, extra: Pick<ControlErrorAnswer, "errMsg"> = {}): void {
  const answer: ControlErrorAnswer = { error: { code, message }, ...extra };
  replyJson(ctx, SANDBOX_CONTROL_ERROR_STATUS[code], answer);
}

/** A successful answer, typed by the call's answer schema, with the call's status. */
function reply<N extends SandboxControlCall>(ctx: Context, call: N, answer: SandboxControlAnswer<N>): void {
  const { status } = SANDBOX_CONTROL_ROUTES[call];
  if (answer === undefined) ctx.status = status;
  else replyJson(ctx, status, answer);
}

function refusal(error: z.ZodError, what: string): string {
  const issue = error.issues[0];
  return `Field ${issue?.path.join(".") || what}: ${issue?.message ?? "invalid"}`;
}

/** Reads and parses a JSON body with `schema`; answers 400 BAD_REQUEST naming the field and returns undefined when it fails. */
async function readBody<S extends z.ZodType>(ctx: Context, schema: S): Promise<z.output<S> | undefined> {
  const body = await readRawBody(ctx, MAX_CONTROL_BODY_BYTES);
  if (!body.ok) {
    replyError(ctx, "BAD_REQUEST", "The body is too large or was cut off.");
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(body.body.toString("utf8") || "{}");
  } catch {
    replyError(ctx, "BAD_REQUEST", "The body is not JSON.");
    return undefined;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    replyError(ctx, "BAD_REQUEST", refusal(parsed.error, "body"));
    return undefined;
  }
  return parsed.data;
}

/** Parses the query string with `schema`; answers 400 BAD_REQUEST naming the parameter when it fails. */
function readQuery<S extends z.ZodType>(ctx: Context, schema: S): z.output<S> | undefined {
  const parsed = schema.safeParse(ctx.query);
  if (!parsed.success) {
    replyError(ctx, "BAD_REQUEST", refusal(parsed.error, "query"));
    return undefined;
  }
  return parsed.data;
}

/** An order as the control API shows it (the gateway's view, snake_case like the protocol). */
export function orderView(order: SandboxOrder): SandboxOrderView {
  return {
    protocol: order.protocol,
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
    refunds: order.refunds.map((r) => ({ out_refund_no: r.outRefundNo, refund_id: r.refundId, refund_fee: r.refundFee, refund_status: r.status, ...v3RefundStatus(r) })),
  };
}

/** The v3 name of a v3 refund's status, for the control views; nothing for a v2 refund (whose views stay as they were). */
function v3RefundStatus(refund: SandboxRefund): { v3_refund_status?: (typeof V3_REFUND_STATUS_OF)[SandboxRefund["status"]] } {
  return refund.protocol === "v3" ? { v3_refund_status: V3_REFUND_STATUS_OF[refund.status] } : {};
}

/**
 * The control API that lets tests and the mini-program shim play the WeChat client and steer the gateway.
 * Methods, paths, request schemas, answer shapes and statuses come from SANDBOX_CONTROL_ROUTES.
 */
export function createControlRouter(sandbox: SandboxContext, faults: FaultInjector): Router {
  const router = new Router();
  const R = SANDBOX_CONTROL_ROUTES;

  router.get(R.listMerchants.path, (ctx) => {
    const now = sandbox.clock.now();
    reply(ctx, "listMerchants", {
      merchants: sandbox.options.merchants.map((m) => {
        const identity = sandbox.v3.get(m.mchId);
        return {
          appid: m.appId,
          mch_id: m.mchId,
          sub_appid: m.subAppId ?? null,
          sub_mch_id: m.subMchId ?? null,
          profile: m.profile,
          protocols: [...(m.key === undefined ? [] : ["v2" as const]), ...(identity === undefined ? [] : ["v3" as const])],
          v3:
            identity === undefined
              ? null
              : {
                  key_mode: identity.keyMode,
                  merchant_serial: identity.merchantCertificate.serial,
                  public_key_id: identity.publicKey?.id ?? null,
                  platform_serials: sandbox.v3.liveCertificates(identity, now).map((c) => c.serial),
                },
        };
      }),
    });
  });

  router.post(R.createLoginCode.path, async (ctx) => {
    const req = await readBody(ctx, R.createLoginCode.body);
    if (req === undefined) return;
    const known = sandbox.options.merchants.some((m) => m.appSecrets[req.appid] !== undefined);
    if (!known) return replyError(ctx, "BAD_REQUEST", `appid ${req.appid} has no app secret configured in the sandbox.`);
    const openid = sandbox.store.openidFor(req.appid, req.user);
    const code = sandbox.store.issueLoginCode(req.appid, openid, sandbox.clock.now() + sandbox.options.loginCodeTtlMs);
    reply(ctx, "createLoginCode", { code: code.code, openid, expires_at: new Date(code.expiresAt).toISOString() });
  });

  router.post(R.pay.path, async (ctx) => {
    const req = await readBody(ctx, R.pay.body);
    if (req === undefined) return;
    const order = sandbox.store.findOrderByPrepayId(req.prepay_id);
    if (order?.protocol === "v3") {
      // The WeChat client checks a v3 paySign before it shows the sheet; a wrong one never reaches the payer.
      const check = checkV3Payment(sandbox, order, req.payment);
      if (!check.ok) return replyError(ctx, "PAY_SIGN_INVALID", check.message, { errMsg: check.errMsg });
    }
    const result = payByPrepayId(sandbox, req.prepay_id, req.outcome, { notify: req.notify });
    if (!result.ok) return replyError(ctx, result.code, result.errMsg, { errMsg: result.errMsg });
    reply(ctx, "pay", { outcome: result.outcome, errMsg: result.errMsg, order: orderView(result.order) });
  });

  router.get(R.listOrders.path, (ctx) => {
    const query = readQuery(ctx, R.listOrders.query);
    if (query === undefined) return;
    const orders = sandbox.store
      .allOrders()
      .filter((o) => (query.out_trade_no === undefined || o.outTradeNo === query.out_trade_no) && (query.mch_id === undefined || o.mchId === query.mch_id));
    reply(ctx, "listOrders", { orders: orders.map(orderView) });
  });

  router.get(R.listDeliveries.path, (ctx) => {
    const query = readQuery(ctx, R.listDeliveries.query);
    if (query === undefined) return;
    reply(ctx, "listDeliveries", { deliveries: sandbox.store.deliveries({ outTradeNo: query.out_trade_no, kind: query.kind }) });
  });

  router.post(R.settleRefund.path, async (ctx) => {
    const req = await readBody(ctx, R.settleRefund.body);
    if (req === undefined) return;
    const refund = sandbox.store.findRefund(req.mch_id, req.sub_mch_id, req.out_refund_no);
    if (refund === undefined) return replyError(ctx, "REFUND_NOT_FOUND", `No refund ${req.out_refund_no}.`);
    if (!settleRefund(sandbox, refund, req.status, { notify: req.notify })) return replyError(ctx, "REFUND_SETTLED", `Refund ${req.out_refund_no} is already ${refund.status}.`);
    reply(ctx, "settleRefund", { out_refund_no: refund.outRefundNo, refund_status: refund.status, ...v3RefundStatus(refund) });
  });

  router.get(R.v3Keys.path, (ctx) => {
    const query = readQuery(ctx, R.v3Keys.query);
    if (query === undefined) return;
    const identity = sandbox.v3.get(query.mch_id);
    if (identity === undefined) return replyError(ctx, "MERCHANT_NOT_FOUND", `No merchant ${query.mch_id} is configured for v3.`);
    const iso = (ms: number): string => new Date(ms).toISOString();
    reply(ctx, "v3Keys", {
      mch_id: identity.mchId,
      key_mode: identity.keyMode,
      merchant_serial: identity.merchantCertificate.serial,
      merchant_certificate_pem: identity.merchantCertificate.certificatePem ?? null,
      public_key: identity.publicKey === undefined ? null : { id: identity.publicKey.id, pem: identity.publicKey.publicKeyPem },
      platform_certificates: sandbox.v3
        .liveCertificates(identity, sandbox.clock.now())
        .map((c) => ({ serial_no: c.serial, pem: c.certificatePem, effective_time: iso(c.effectiveAt), expire_time: iso(c.expiresAt) })),
    });
  });

  router.post(R.rotateV3Certificate.path, async (ctx) => {
    const req = await readBody(ctx, R.rotateV3Certificate.body);
    if (req === undefined) return;
    const identity = sandbox.v3.get(req.mch_id);
    if (identity === undefined) return replyError(ctx, "MERCHANT_NOT_FOUND", `No merchant ${req.mch_id} is configured for v3.`);
    const rotated = sandbox.v3.rotate(identity, sandbox.clock.now(), req.overlap_ms);
    if (rotated === undefined) return replyError(ctx, "NOT_ROTATABLE", `Merchant ${req.mch_id} signs with a WeChat Pay public key only; it has no platform certificate to rotate.`);
    reply(ctx, "rotateV3Certificate", {
      mch_id: identity.mchId,
      serial_no: rotated.current.serial,
      retiring: rotated.retiring.map((c) => ({ serial_no: c.serial, retires_at: new Date(c.retiresAt ?? c.expiresAt).toISOString() })),
    });
  });

  router.post(R.createForeignPayment.path, async (ctx) => {
    const req = await readBody(ctx, R.createForeignPayment.body);
    if (req === undefined) return;
    const result = createForeignPayment(sandbox, req);
    if (!result.ok) return replyError(ctx, result.code, result.message);
    reply(ctx, "createForeignPayment", { order: orderView(result.order) });
  });

  router.post(R.createForeignRefund.path, async (ctx) => {
    const req = await readBody(ctx, R.createForeignRefund.body);
    if (req === undefined) return;
    const result = createForeignRefund(sandbox, req);
    if (!result.ok) return replyError(ctx, result.code, result.message);
    reply(ctx, "createForeignRefund", { order: orderView(result.order) });
  });

  router.get(R.listDiscrepancies.path, (ctx) => reply(ctx, "listDiscrepancies", { discrepancies: sandbox.bills.listDiscrepancies() }));
  router.post(R.addDiscrepancy.path, async (ctx) => {
    const discrepancy = await readBody(ctx, R.addDiscrepancy.body);
    if (discrepancy === undefined) return;
    const { mch_id: mchId, sub_mch_id: subMchId } = discrepancy;
    if (sandbox.findMerchant(mchId, subMchId) === undefined)
      return replyError(ctx, "MERCHANT_NOT_FOUND", `No merchant ${mchId}${subMchId === undefined ? "" : ` / ${subMchId}`} is configured.`);
    // A difference for an order or refund the gateway does not have would never show: refuse it rather than let a test pass for the wrong reason.
    if ("out_trade_no" in discrepancy && sandbox.store.findOrder(mchId, subMchId, discrepancy.out_trade_no) === undefined) {
      return replyError(ctx, "ORDER_NOT_FOUND", `No order ${discrepancy.out_trade_no}.`);
    }
    if ("out_refund_no" in discrepancy && sandbox.store.findRefund(mchId, subMchId, discrepancy.out_refund_no) === undefined) {
      return replyError(ctx, "REFUND_NOT_FOUND", `No refund ${discrepancy.out_refund_no}.`);
    }
    sandbox.bills.addDiscrepancy(discrepancy);
    reply(ctx, "addDiscrepancy", { discrepancy });
  });
  router.delete(R.clearDiscrepancies.path, (ctx) => {
    sandbox.bills.clearDiscrepancies();
    reply(ctx, "clearDiscrepancies", undefined);
  });

  router.get(R.listBillFaults.path, (ctx) => reply(ctx, "listBillFaults", { bill_faults: sandbox.bills.listFaults() }));
  router.post(R.addBillFault.path, async (ctx) => {
    const rule = await readBody(ctx, R.addBillFault.body);
    if (rule === undefined) return;
    if (sandbox.findMerchant(rule.mch_id, rule.sub_mch_id) === undefined) {
      return replyError(ctx, "MERCHANT_NOT_FOUND", `No merchant ${rule.mch_id}${rule.sub_mch_id === undefined ? "" : ` / ${rule.sub_mch_id}`} is configured.`);
    }
    reply(ctx, "addBillFault", { bill_fault: sandbox.bills.addFault(rule) });
  });
  router.delete(R.clearBillFaults.path, (ctx) => {
    sandbox.bills.clearFaults();
    reply(ctx, "clearBillFaults", undefined);
  });

  router.get(R.listFaults.path, (ctx) => reply(ctx, "listFaults", { faults: [...faults.list()] }));
  router.post(R.addFault.path, async (ctx) => {
    const rule = await readBody(ctx, R.addFault.body);
    if (rule === undefined) return;
    reply(ctx, "addFault", { fault: faults.add(rule) });
  });
  router.delete(R.clearFaults.path, (ctx) => {
    faults.clear();
    reply(ctx, "clearFaults", undefined);
  });
  router.get(R.getLatency.path, (ctx) => reply(ctx, "getLatency", { latency_ms: faults.latencyMs }));
  router.post(R.setLatency.path, async (ctx) => {
    const body = await readBody(ctx, R.setLatency.body);
    if (body === undefined) return;
    faults.latencyMs = body.latency_ms;
    reply(ctx, "setLatency", { latency_ms: faults.latencyMs });
  });

  return router;
}
