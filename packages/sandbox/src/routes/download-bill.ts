import { gzipSync } from "node:zlib";
import { parseBeijingTime, parseDownloadBillRequest } from "@pay/core";
import { buildTradeBillCsv, DAY_MS } from "../bills/trade-bill.js";
import type { SandboxContext } from "../context.js";
import { replyProtocolFail } from "../http.js";
import type { GatewayRequest } from "./gateway-request.js";

/** POST /pay/downloadbill: the day's trades as the gateway's CSV (BOM, backtick-prefixed fields, amounts in yuan). */
export function downloadBill(sandbox: SandboxContext, request: GatewayRequest): void {
  const { ctx, merchant, raw } = request;
  const parsed = parseDownloadBillRequest(raw);
  if (!parsed.ok) {
    // downloadbill reports every failure as return_code FAIL with one of its fixed messages.
    const { code, message } = parsed.error;
    return replyProtocolFail(ctx, code === "MISSING_FIELD" ? "missing parameter" : message.includes("bill_type") ? "invalid bill_type" : "data format error");
  }
  const { billDate, billType, tarType } = parsed.value;
  const dayStart = parseBeijingTime(`${billDate}000000`)?.getTime();
  if (dayStart === undefined) return replyProtocolFail(ctx, "invalid bill_date");
  if (dayStart + DAY_MS > sandbox.clock.now()) return replyProtocolFail(ctx, "Bill Creating");

  const orders = sandbox.store.allOrders().filter((o) => o.mchId === merchant.mchId && o.subMchId === merchant.subMchId);
  const date = `${billDate.slice(0, 4)}-${billDate.slice(4, 6)}-${billDate.slice(6, 8)}`;
  const overrides = sandbox.bills.overridesFor(merchant.mchId, merchant.subMchId, date);
  // A v2 download never takes a hash_mismatch fault: v2 bills have no hash.
  const fault = sandbox.bills.faultFor("v2", merchant.mchId, merchant.subMchId, date);
  const fileFault = fault?.kind === "hash_mismatch" ? undefined : fault?.kind;
  // The sandbox has no recharge coupons, so a RECHARGE_REFUND bill never has lines.
  const text =
    billType === "RECHARGE_REFUND"
      ? undefined
      : buildTradeBillCsv({ orders, dayStart, lines: billType, summaryCurrency: orders[0]?.feeType ?? "CNY", overrides, ...(fileFault === undefined ? {} : { fault: fileFault }) });
  if (text === undefined) return replyProtocolFail(ctx, "No Bill Exist");
  fault?.use();
  ctx.status = 200;
  if (tarType === "GZIP") {
    ctx.type = "application/x-gzip";
    ctx.body = gzipSync(Buffer.from(text, "utf8"));
  } else {
    ctx.type = "text/plain; charset=utf-8";
    ctx.body = text;
  }
}
