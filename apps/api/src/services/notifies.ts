import { buildNotifyFailReply, NOTIFY_SUCCESS_REPLY, parsePayNotify, parseRefundNotify } from "@pay/core";
import type { ServiceContext } from "./context.js";
import { applyPaidReport } from "./payments.js";
import { finalStatusOf, settleRefund } from "./refunds.js";

/** What to answer WeChat Pay, and why (for the log and the tests). */
export interface NotifyHandling {
  readonly reply: string;
  readonly acknowledged: boolean;
  readonly reason: string;
}

const ack = (reason: string): NotifyHandling => ({ reply: NOTIFY_SUCCESS_REPLY, acknowledged: true, reason });
const refuse = (reason: string, message: string): NotifyHandling => ({ reply: buildNotifyFailReply(message), acknowledged: false, reason });

/** Largest notify body accepted; real ones are under 4 KiB. */
export const MAX_NOTIFY_BYTES = 64 * 1024;

/** The whole notify body must arrive within this; WeChat Pay sends it at once and gives up on the answer after 5 s. */
export const NOTIFY_BODY_TIMEOUT_MS = 5_000;

/**
 * Handles a pay result notify from its raw body. SUCCESS is answered only after the paid state is
 * committed (or was already), and for a verified result_code=FAIL notify, which changes nothing.
 * Anything that does not verify or match the stored order gets FAIL and changes nothing.
 */
export async function handlePayNotify(ctx: ServiceContext, body: Buffer): Promise<NotifyHandling> {
  const merchant = ctx.config.merchant;
  // HMAC-SHA256 notifies arrive without sign_type; the length of the sign implies the algorithm,
  // which must still be the merchant's configured one.
  const parsed = parsePayNotify(body, { key: merchant.key, signType: merchant.signType, inferSignType: true, maxBytes: MAX_NOTIFY_BYTES });
  if (!parsed.ok) return refuse(parsed.error.code, parsed.error.code === "SIGN_MISMATCH" ? "签名失败" : "参数格式校验错误");
  const { notify, raw, paid } = parsed.value;
  if (!paid) return ack(`result_code FAIL (${notify.errCode ?? "no err_code"}): nothing to change`);

  const order = await ctx.loadOrder(notify.outTradeNo);
  if (order === undefined) return refuse("UNKNOWN_ORDER", "订单不存在");
  const result = await applyPaidReport(ctx, order, {
    source: "notify",
    outTradeNo: notify.outTradeNo,
    transactionId: notify.transactionId,
    appid: notify.appid,
    mchId: notify.mchId,
    subAppid: notify.subAppid,
    subMchId: notify.subMchId,
    totalFee: notify.totalFee,
    feeType: notify.feeType,
    cashFee: notify.cashFee,
    cashFeeType: notify.cashFeeType,
    raw,
  });
  if (result.outcome === "rejected") return refuse(result.code, "订单信息不一致");
  return ack(result.outcome === "applied" ? "paid" : "duplicate of an applied notify");
}

/**
 * Handles a refund result notify: it has no sign, so only a req_info that decrypts with our key, for
 * our merchant, naming a refund we made with the same amount, is applied (once).
 */
export async function handleRefundNotify(ctx: ServiceContext, body: Buffer): Promise<NotifyHandling> {
  const merchant = ctx.config.merchant;
  const parsed = parseRefundNotify(body, { key: merchant.key, appId: merchant.appId, mchId: merchant.mchId, subMchId: merchant.subMchId, maxBytes: MAX_NOTIFY_BYTES });
  if (!parsed.ok) return refuse(parsed.error.code, "解密或参数校验失败");
  const { refund: reported, payload } = parsed.value;
  const refund = await ctx.db.selectFrom("refunds").selectAll().where("id", "=", reported.outRefundNo).executeTakeFirst();
  if (refund === undefined) return refuse("UNKNOWN_REFUND", "退款单不存在");
  if (refund.order_id !== reported.outTradeNo || refund.refund_fee !== reported.refundFee) return refuse("REFUND_MISMATCH", "退款信息不一致");
  const status = finalStatusOf(reported.refundStatus);
  if (status === undefined) return ack("refund still processing");
  if (refund.status !== "processing") {
    return refund.status === status ? ack("duplicate of an applied refund notify") : refuse("REFUND_STATUS_CONFLICT", "退款状态不一致");
  }
  await ctx.db.updateTable("refunds").set({ refund_id: reported.refundId, submitted: 1 }).where("id", "=", refund.id).execute();
  await settleRefund(ctx, refund, status, undefined, payload.success_time === undefined ? undefined : new Date(`${payload.success_time.replace(" ", "T")}+08:00`).toISOString());
  return ack(`refund ${status}`);
}
