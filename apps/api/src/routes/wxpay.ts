import Router from "@koa/router";
import { buildNotifyFailReply } from "@pay/core";
import type { Context } from "koa";
import { readRaw } from "../http/body.js";
import { describeRequestLog } from "../middleware/request-log.js";
import type { ServiceContext } from "../services/context.js";
import { handlePayNotify, handleRefundNotify, MAX_NOTIFY_BYTES, NOTIFY_BODY_TIMEOUT_MS, type NotifyHandling } from "../services/notifies.js";

const XML_TYPES = ["text/xml", "application/xml"];

/**
 * Receives a notify: only XML content types, a size-capped raw body (never a parsed one), and always
 * an XML answer with HTTP 200 — FAIL for anything refused, so WeChat Pay retries it later.
 */
async function receive(ctx: Context, services: ServiceContext, kind: "pay" | "refund", handle: (body: Buffer) => Promise<NotifyHandling>): Promise<void> {
  let result: NotifyHandling;
  if (ctx.is(XML_TYPES) === false || ctx.get("content-type") === "") {
    result = { reply: buildNotifyFailReply("Content-Type must be text/xml"), acknowledged: false, reason: "WRONG_CONTENT_TYPE" };
  } else {
    const raw = await readRaw(ctx, MAX_NOTIFY_BYTES, NOTIFY_BODY_TIMEOUT_MS);
    if (raw === "too-large") result = { reply: buildNotifyFailReply("body too large"), acknowledged: false, reason: "TOO_LARGE" };
    else if (raw === "too-slow") {
      result = { reply: buildNotifyFailReply("body too slow"), acknowledged: false, reason: "TOO_SLOW" };
      ctx.set("Connection", "close");
    } else if (raw === "aborted") result = { reply: buildNotifyFailReply("body cut off"), acknowledged: false, reason: "ABORTED" };
    else {
      try {
        result = await handle(raw);
      } catch (error) {
        // Most likely the database: nothing was committed, so asking for a retry is right.
        services.logger.error({ err: error, kind }, "notify handling failed");
        result = { reply: buildNotifyFailReply("temporarily unavailable"), acknowledged: false, reason: "INTERNAL" };
      }
    }
  }
  // One line per notify: the request log's, with the outcome.
  describeRequestLog(ctx, { msg: "notify", warn: !result.acknowledged, fields: { kind, acknowledged: result.acknowledged, reason: result.reason } });
  ctx.status = 200;
  ctx.type = "text/xml";
  ctx.body = result.reply;
}

/** The two routes WeChat Pay calls. */
export function createWxPayRouter(services: ServiceContext): Router {
  const router = new Router();
  router.post("/wxpay/notify", (ctx) => receive(ctx, services, "pay", (body) => handlePayNotify(services, body)));
  router.post("/wxpay/refund-notify", (ctx) => receive(ctx, services, "refund", (body) => handleRefundNotify(services, body)));
  return router;
}
