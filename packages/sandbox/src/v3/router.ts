import Router from "@koa/router";
import type { Context } from "koa";
import type { SandboxContext } from "../context.js";
import { acceptV3Request, replyV3Error, type V3Call } from "./http.js";
import { downloadBillFile, fundFlowBill, tradeBill } from "./routes/bills.js";
import { listCertificates } from "./routes/certificates.js";
import { closeOrder, globalJsapiOrder, jsapiOrder, partnerJsapiOrder, queryOrder } from "./routes/orders.js";
import { createRefund, globalCreateRefund, globalQueryRefund, queryRefund } from "./routes/refunds.js";

/** A v3 endpoint's handler: the call passed every protocol check; it answers (signed) itself. */
export type V3Handler = (sandbox: SandboxContext, call: V3Call) => void;

type V3Route = {
  readonly method: "GET" | "POST";
  readonly path: string;
  /** A WeChat Pay Global route (`/v3/global/...`, on apihk). */
  readonly global: boolean;
  readonly handler: V3Handler;
};

/** Every v3 path the sandbox serves (the real hosts' paths; a client switches by base URL only). */
export const V3_GATEWAY_PATHS = {
  jsapi: "/v3/pay/transactions/jsapi",
  partnerJsapi: "/v3/pay/partner/transactions/jsapi",
  globalJsapi: "/v3/global/transactions/jsapi",
  queryById: "/v3/pay/transactions/id/:transaction_id",
  queryByOutTradeNo: "/v3/pay/transactions/out-trade-no/:out_trade_no",
  close: "/v3/pay/transactions/out-trade-no/:out_trade_no/close",
  partnerQueryById: "/v3/pay/partner/transactions/id/:transaction_id",
  partnerQueryByOutTradeNo: "/v3/pay/partner/transactions/out-trade-no/:out_trade_no",
  partnerClose: "/v3/pay/partner/transactions/out-trade-no/:out_trade_no/close",
  globalQueryById: "/v3/global/transactions/id/:transaction_id",
  globalQueryByOutTradeNo: "/v3/global/transactions/out-trade-no/:out_trade_no",
  globalClose: "/v3/global/transactions/out-trade-no/:out_trade_no/close",
  refunds: "/v3/refund/domestic/refunds",
  queryRefund: "/v3/refund/domestic/refunds/:out_refund_no",
  globalRefunds: "/v3/global/refunds",
  globalQueryRefundByNo: "/v3/global/refunds/out-refund-no/:out_refund_no",
  globalQueryRefundById: "/v3/global/refunds/id/:refund_id",
  certificates: "/v3/certificates",
  globalCertificates: "/v3/global/certificates",
  tradeBill: "/v3/bill/tradebill",
  fundFlowBill: "/v3/bill/fundflowbill",
  billDownload: "/v3/billdownload/file",
} as const;

const P = V3_GATEWAY_PATHS;

export const V3_ROUTES: readonly V3Route[] = [
  { method: "POST", path: P.jsapi, handler: jsapiOrder, global: false },
  { method: "POST", path: P.partnerJsapi, handler: partnerJsapiOrder, global: false },
  { method: "POST", path: P.globalJsapi, handler: globalJsapiOrder, global: true },
  { method: "GET", path: P.queryById, handler: queryOrder, global: false },
  { method: "GET", path: P.queryByOutTradeNo, handler: queryOrder, global: false },
  { method: "POST", path: P.close, handler: closeOrder, global: false },
  { method: "GET", path: P.partnerQueryById, handler: queryOrder, global: false },
  { method: "GET", path: P.partnerQueryByOutTradeNo, handler: queryOrder, global: false },
  { method: "POST", path: P.partnerClose, handler: closeOrder, global: false },
  { method: "GET", path: P.globalQueryById, handler: queryOrder, global: true },
  { method: "GET", path: P.globalQueryByOutTradeNo, handler: queryOrder, global: true },
  { method: "POST", path: P.globalClose, handler: closeOrder, global: true },
  { method: "POST", path: P.refunds, handler: createRefund, global: false },
  { method: "GET", path: P.queryRefund, handler: queryRefund, global: false },
  { method: "POST", path: P.globalRefunds, handler: globalCreateRefund, global: true },
  { method: "GET", path: P.globalQueryRefundByNo, handler: globalQueryRefund, global: true },
  { method: "GET", path: P.globalQueryRefundById, handler: globalQueryRefund, global: true },
  { method: "GET", path: P.certificates, handler: listCertificates, global: false },
  { method: "GET", path: P.globalCertificates, handler: listCertificates, global: true },
  { method: "GET", path: P.tradeBill, handler: tradeBill, global: false },
  { method: "GET", path: P.fundFlowBill, handler: fundFlowBill, global: false },
  // The download is a signed request like any other (over the download_url's path and query); only its answer is unsigned.
  { method: "GET", path: P.billDownload, handler: downloadBillFile, global: false },
];

/**
 * The v3 gateway: each route checks its verb (405 otherwise), then the protocol checks of
 * acceptV3Request, then its handler. Any other `/v3/` path is a 404.
 */
export function createV3Router(sandbox: SandboxContext): Router {
  // Paths match exactly, as on the real host: no case folding, no trailing slash (a typo there fails in production too).
  const router = new Router({ sensitive: true, strict: true });
  for (const route of V3_ROUTES) {
    router.all(route.path, async (ctx) => {
      if (ctx.method !== route.method) {
        ctx.set("Allow", route.method);
        return replyV3Error(sandbox, ctx, 405, { code: "METHOD_NOT_ALLOWED", message: `请使用${route.method}方法` });
      }
      const call = await acceptV3Request(sandbox, ctx, route, ctx.params);
      if (call !== undefined) route.handler(sandbox, call);
    });
  }
  return router;
}

/** Answers 404 RESOURCE_NOT_EXISTS for a `/v3/` path nothing answered (mounted before the routers, acting after them). */
export function createV3NotFound(sandbox: SandboxContext): (ctx: Context, next: () => Promise<void>) => Promise<void> {
  return async function v3NotFound(ctx, next) {
    await next();
    if (ctx.path.startsWith("/v3/") && ctx.status === 404 && ctx.body === undefined) {
      replyV3Error(sandbox, ctx, 404, { code: "RESOURCE_NOT_EXISTS", message: "请求的接口不存在" });
    }
  };
}
