import { createHash, randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { V3_BILL_TAR_TYPES, V3_FUND_FLOW_ACCOUNT_TYPES, V3_TRADE_BILL_TYPES, V3BillDateSchema } from "@pay/core";
import { buildFundFlowBillCsv } from "../../bills/fund-flow-bill.js";
import { buildTradeBillCsv, DAY_MS } from "../../bills/trade-bill.js";
import type { SandboxContext } from "../../context.js";
import { replyV3Error, replyV3Signed, type V3Call } from "../http.js";

/** The download path (V3_GATEWAY_PATHS.billDownload; not imported, since the router imports this module). */
const BILL_DOWNLOAD_PATH = "/v3/billdownload/file";

/** A download URL works this long after the bill was applied for (the official page: "有效时间为 30s"). */
export const V3_BILL_URL_TTL_MS = 30_000;

/** Trade bills are ready from 08:00 Beijing on the next day, fund-flow bills from 10:00 (the official STATEMENT_CREATING advice). */
const TRADE_BILL_READY_MS = 8 * 3600 * 1000;
const FUND_FLOW_BILL_READY_MS = 10 * 3600 * 1000;
const BEIJING_OFFSET_MS = 8 * 3600 * 1000;

/** A bill file behind a download token: fixed when applied for, so the file always matches its hash_value. */
interface IssuedBill {
  readonly mchId: string;
  readonly csv: Buffer;
  readonly gzip: boolean;
  readonly expiresAt: number;
}

/** The live download tokens of each sandbox. */
const issuedBills = new WeakMap<SandboxContext, Map<string, IssuedBill>>();

function billsOf(sandbox: SandboxContext): Map<string, IssuedBill> {
  let bills = issuedBills.get(sandbox);
  if (bills === undefined) {
    bills = new Map();
    issuedBills.set(sandbox, bills);
  }
  return bills;
}

function paramError(sandbox: SandboxContext, call: V3Call, name: string, message: string): void {
  replyV3Error(sandbox, call.ctx, 400, { code: "PARAM_ERROR", message, detail: { location: "query", value: `/query/${name}` } });
}

/**
 * The query parameters, each at most once and only the documented ones; answers 400 PARAM_ERROR itself
 * and returns undefined otherwise.
 */
function readQuery(sandbox: SandboxContext, call: V3Call, allowed: readonly string[]): Map<string, string> | undefined {
  const values = new Map<string, string>();
  for (const [name, value] of call.query) {
    if (!allowed.includes(name)) {
      replyV3Error(sandbox, call.ctx, 400, { code: "PARAM_ERROR", message: "请求中含有未在API文档中定义的参数", detail: { location: "query", value: [`/query/${name}`] } });
      return undefined;
    }
    if (values.has(name)) {
      paramError(sandbox, call, name, `参数${name}重复`);
      return undefined;
    }
    values.set(name, value);
  }
  return values;
}

/** Reads an optional enumerated parameter; answers PARAM_ERROR for any other value. */
function readEnum<T extends string>(
  sandbox: SandboxContext,
  call: V3Call,
  query: Map<string, string>,
  name: string,
  values: readonly T[],
): { ok: true; value: T | undefined } | { ok: false } {
  const text = query.get(name);
  if (text === undefined) return { ok: true, value: undefined };
  if ((values as readonly string[]).includes(text)) return { ok: true, value: text as T };
  paramError(sandbox, call, name, `参数${name}的值不在枚举范围内，可选值：${values.join("|")}`);
  return { ok: false };
}

/** Start of today (Beijing), epoch ms. */
function beijingTodayStart(now: number): number {
  return Math.floor((now + BEIJING_OFFSET_MS) / DAY_MS) * DAY_MS - BEIJING_OFFSET_MS;
}

/** The earliest bill day served: the same day of the month three months before today (Beijing), clamped to that month's length. */
function earliestBillDay(todayStart: number): number {
  const today = new Date(todayStart + BEIJING_OFFSET_MS);
  const year = today.getUTCFullYear();
  const month = today.getUTCMonth() - 3;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(year, month, Math.min(today.getUTCDate(), lastDay)) - BEIJING_OFFSET_MS;
}

/**
 * The Beijing day a bill_date names, once it passed the gateway's date rules: a real yyyy-MM-dd
 * (PARAM_ERROR), not after today (INVALID_REQUEST), not more than three months back (INVALID_REQUEST),
 * and ready (today, or yesterday before `readyMs` past midnight: STATEMENT_CREATING). Answers the refusal itself.
 */
function billDay(sandbox: SandboxContext, call: V3Call, query: Map<string, string>, readyMs: number): number | undefined {
  const text = query.get("bill_date");
  if (text === undefined) {
    paramError(sandbox, call, "bill_date", "缺少参数bill_date");
    return undefined;
  }
  if (!V3BillDateSchema.safeParse(text).success) {
    paramError(sandbox, call, "bill_date", "参数bill_date格式错误，应为yyyy-MM-dd");
    return undefined;
  }
  const [y, m, d] = text.split("-").map(Number) as [number, number, number];
  const dayStart = Date.UTC(y, m - 1, d) - BEIJING_OFFSET_MS;
  const now = sandbox.clock.now();
  const todayStart = beijingTodayStart(now);
  const refuse = (code: string, message: string): undefined => {
    replyV3Error(sandbox, call.ctx, 400, { code, message }, call);
    return undefined;
  };
  if (dayStart > todayStart) return refuse("INVALID_REQUEST", "参数错误，账单日期bill_date不能晚于当前日期");
  if (dayStart < earliestBillDay(todayStart)) return refuse("INVALID_REQUEST", "参数错误，仅支持下载三个月内的账单");
  if (now < dayStart + DAY_MS + readyMs) {
    const hour = readyMs / 3600_000;
    return refuse("STATEMENT_CREATING", `账单生成中，请在T+1日上午${hour}点后再重新下载`);
  }
  return dayStart;
}

/** What a `hash_mismatch` bill-file fault serves after the file the hash was computed over: a blank line, so the file still parses and only its hash tells. */
export const HASH_MISMATCH_TAIL = "\r\n";

/**
 * Issues a download token for `csv` and answers the signed `{hash_type, hash_value, download_url}`. With
 * `hashMismatch`, the file behind the token is not the one the hash_value is of.
 */
function answerBill(sandbox: SandboxContext, call: V3Call, csv: string, gzip: boolean, hashMismatch = false): void {
  const hashed = Buffer.from(csv, "utf8");
  const bytes = hashMismatch ? Buffer.from(`${csv}${HASH_MISMATCH_TAIL}`, "utf8") : hashed;
  const now = sandbox.clock.now();
  const bills = billsOf(sandbox);
  for (const [token, bill] of bills) if (bill.expiresAt <= now) bills.delete(token);
  const token = randomBytes(32).toString("base64url");
  bills.set(token, { mchId: call.auth.mchId, csv: bytes, gzip, expiresAt: now + V3_BILL_URL_TTL_MS });
  // The host the request came to, so the URL works on whatever address and port the sandbox listens.
  const downloadUrl = `${call.ctx.protocol}://${call.ctx.host}${BILL_DOWNLOAD_PATH}?token=${token}`;
  replyV3Signed(sandbox, call, 200, { hash_type: "SHA1", hash_value: createHash("sha1").update(hashed).digest("hex"), download_url: downloadUrl });
}

function noStatement(sandbox: SandboxContext, call: V3Call, message: string): void {
  replyV3Error(sandbox, call.ctx, 400, { code: "NO_STATEMENT_EXIST", message }, call);
}

/**
 * GET /v3/bill/tradebill?bill_date=…[&sub_mchid=][&bill_type=][&tar_type=GZIP]: the day's payments and
 * successful refunds of the calling mchid (of one sub-merchant with sub_mchid, of every one without),
 * whatever API version made them. bill_type ALL, SUCCESS or REFUND; the other types (recharge-coupon
 * refunds, special fee rates) have no lines in the sandbox: NO_STATEMENT_EXIST.
 */
export function tradeBill(sandbox: SandboxContext, call: V3Call): void {
  const query = readQuery(sandbox, call, ["bill_date", "sub_mchid", "bill_type", "tar_type"]);
  if (query === undefined) return;
  const billType = readEnum(sandbox, call, query, "bill_type", V3_TRADE_BILL_TYPES);
  if (!billType.ok) return;
  const tarType = readEnum(sandbox, call, query, "tar_type", V3_BILL_TAR_TYPES);
  if (!tarType.ok) return;
  const subMchId = query.get("sub_mchid");
  if (subMchId !== undefined && sandbox.findMerchant(call.auth.mchId, subMchId) === undefined) {
    return replyV3Error(sandbox, call.ctx, 403, { code: "NO_AUTH", message: "权限异常(无该子商户账单的权限)" }, call);
  }
  const dayStart = billDay(sandbox, call, query, TRADE_BILL_READY_MS);
  if (dayStart === undefined) return;
  const lines = billType.value ?? "ALL";
  const orders = sandbox.store.allOrders().filter((o) => o.mchId === call.auth.mchId && (subMchId === undefined || o.subMchId === subMchId));
  const date = new Date(dayStart + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
  const overrides = sandbox.bills.overridesFor(call.auth.mchId, subMchId, date);
  const fault = sandbox.bills.faultFor("v3", call.auth.mchId, subMchId, date);
  const fileFault = fault?.kind === "hash_mismatch" ? undefined : fault?.kind;
  const csv =
    lines === "ALL" || lines === "SUCCESS" || lines === "REFUND"
      ? buildTradeBillCsv({ orders, dayStart, lines, overrides, ...(fileFault === undefined ? {} : { fault: fileFault }) })
      : undefined;
  if (csv === undefined) return noStatement(sandbox, call, "账单文件不存在，请检查当前商户号是否在指定日期有交易或退款发生");
  fault?.use();
  answerBill(sandbox, call, csv, tarType.value === "GZIP", fault?.kind === "hash_mismatch");
}

/**
 * GET /v3/bill/fundflowbill?bill_date=…[&account_type=][&tar_type=GZIP]: the day's movements of the
 * calling mchid's basic account (its own payments in, its successful refunds out). The operation and
 * fees accounts have no movements in the sandbox: NO_STATEMENT_EXIST.
 */
export function fundFlowBill(sandbox: SandboxContext, call: V3Call): void {
  const query = readQuery(sandbox, call, ["bill_date", "account_type", "tar_type"]);
  if (query === undefined) return;
  const accountType = readEnum(sandbox, call, query, "account_type", V3_FUND_FLOW_ACCOUNT_TYPES);
  if (!accountType.ok) return;
  const tarType = readEnum(sandbox, call, query, "tar_type", V3_BILL_TAR_TYPES);
  if (!tarType.ok) return;
  const dayStart = billDay(sandbox, call, query, FUND_FLOW_BILL_READY_MS);
  if (dayStart === undefined) return;
  // A sub-merchant's payments settle into the sub-merchant's account, not the service provider's.
  const orders = sandbox.store.allOrders().filter((o) => o.mchId === call.auth.mchId && o.subMchId === undefined);
  const csv = (accountType.value ?? "BASIC") === "BASIC" ? buildFundFlowBillCsv({ mchId: call.auth.mchId, orders, dayStart }) : undefined;
  if (csv === undefined) return noStatement(sandbox, call, "账单文件不存在，请检查当前商户号请求的微信支付账户在指定日期是否有资金操作");
  answerBill(sandbox, call, csv, tarType.value === "GZIP");
}

/**
 * GET /v3/billdownload/file?token=…: the file behind a token, unsigned (reference §9), as text/plain or,
 * when applied for with tar_type=GZIP, application/x-gzip. The request passed the v3 checks (signed by
 * the merchant over the download URL's path and query); the token must be live (30 s) and the caller
 * the merchant that applied for it.
 */
export function downloadBillFile(sandbox: SandboxContext, call: V3Call): void {
  const query = readQuery(sandbox, call, ["token", "tartype"]);
  if (query === undefined) return;
  const token = query.get("token");
  if (token === undefined || token === "") return paramError(sandbox, call, "token", "缺少参数token");
  const bills = billsOf(sandbox);
  const bill = bills.get(token);
  if (bill === undefined || bill.expiresAt <= sandbox.clock.now()) {
    if (bill !== undefined) bills.delete(token);
    return replyV3Error(sandbox, call.ctx, 400, { code: "INVALID_REQUEST", message: "参数错误，下载地址无效或已过期，请重新申请账单获取下载地址" });
  }
  if (bill.mchId !== call.auth.mchId) {
    return replyV3Error(sandbox, call.ctx, 403, { code: "NO_AUTH", message: "权限异常，请检查本次请求的商户是否与申请账单API的请求商户一致" });
  }
  const { ctx } = call;
  ctx.status = 200;
  if (bill.gzip) {
    ctx.body = gzipSync(bill.csv);
    ctx.type = "application/x-gzip";
  } else {
    ctx.body = bill.csv;
    ctx.type = "text/plain; charset=utf-8";
  }
}
