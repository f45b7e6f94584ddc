import { randomBytes } from "node:crypto";
import Router from "@koa/router";
import type { Context } from "koa";
import type { SandboxContext } from "../context.js";
import { CASHIER_PAYMENT_PARAMS, SANDBOX_CONTROL_PATHS } from "../control/routes.js";
import { RequestPaymentFieldsSchema, type RequestPaymentFields } from "../control/schemas.js";
import { renderCashierPage, renderNotFoundPage } from "./cashier-page.js";
import { cashierViewOf } from "./cashier-view.js";

/** Longer than any prepay_id the sandbox issues; a longer query value cannot name an order. */
const MAX_PREPAY_ID_LENGTH = 64;

/** The page may run its own nonce'd script and style and talk to this origin; nothing else. */
export function cashierContentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

function replyHtml(ctx: Context, status: number, render: (nonce: string) => string): void {
  const nonce = randomBytes(16).toString("base64");
  ctx.status = status;
  ctx.type = "text/html; charset=utf-8";
  ctx.set("Content-Security-Policy", cashierContentSecurityPolicy(nonce));
  ctx.set("X-Content-Type-Options", "nosniff");
  ctx.set("Referrer-Policy", "no-referrer");
  // The sheet shows live order state; a cached copy would offer Pay for a paid order.
  ctx.set("Cache-Control", "no-store");
  ctx.body = render(nonce);
}

/**
 * The wx.requestPayment fields a v3 order's cashier URL carries (see cashierUrl); undefined when they are
 * absent or not well-formed, and the sheet then says they are needed. Their signature is checked on Pay.
 */
function paymentFieldsOf(query: Context["query"]): RequestPaymentFields | undefined {
  const given = Object.fromEntries(CASHIER_PAYMENT_PARAMS.flatMap((name) => (typeof query[name] === "string" ? [[name, query[name]]] : [])));
  const parsed = RequestPaymentFieldsSchema.safeParse(given);
  return parsed.success ? parsed.data : undefined;
}

/** GET /sandbox/cashier?prepay_id=…: the payer's payment sheet for the order behind a prepay_id (a v3 order's with its signed fields). */
export function createCashierRouter(sandbox: SandboxContext): Router {
  const router = new Router();

  router.get(SANDBOX_CONTROL_PATHS.cashier, (ctx) => {
    const query = ctx.query.prepay_id;
    const prepayId = typeof query === "string" && query !== "" ? query : undefined;
    const order = prepayId !== undefined && prepayId.length <= MAX_PREPAY_ID_LENGTH ? sandbox.store.findOrderByPrepayId(prepayId) : undefined;
    if (order === undefined) return replyHtml(ctx, 404, (nonce) => renderNotFoundPage(prepayId?.slice(0, MAX_PREPAY_ID_LENGTH), nonce));
    const view = cashierViewOf(sandbox, order, order.protocol === "v3" ? paymentFieldsOf(ctx.query) : undefined);
    replyHtml(ctx, 200, (nonce) => renderCashierPage(view, nonce));
  });

  return router;
}
