import Router from "@koa/router";
import type { Context } from "koa";
import type { NotifyHeaders } from "../gateway/port.js";
import { readRaw } from "../http/body.js";
import { describeRequestLog } from "../middleware/request-log.js";
import type { ServiceContext } from "../services/context.js";
import { handlePayNotify, handleRefundNotify, MAX_NOTIFY_BYTES, NOTIFY_BODY_TIMEOUT_MS, type NotifyHandling } from "../services/notifies.js";

const refused = (reason: string, message: string): NotifyHandling => ({ answer: { acknowledged: false, message }, reason });

/**
 * Receives a notify: only the protocol's content types, a size-capped raw body (never a parsed one)
 * handed with its headers to the gateway adapter, and always the protocol's answer: a refusal for
 * anything refused, so WeChat Pay retries it later.
 */
async function receive(ctx: Context, services: ServiceContext, kind: "pay" | "refund", handle: (body: Buffer, headers: NotifyHeaders) => Promise<NotifyHandling>): Promise<void> {
  const types = services.gateway.notifyContentTypes;
  let result: NotifyHandling;
  if (ctx.is([...types]) === false || ctx.get("content-type") === "") {
    result = refused("WRONG_CONTENT_TYPE", `Content-Type must be ${types[0] ?? "set"}`);
  } else {
    const raw = await readRaw(ctx, MAX_NOTIFY_BYTES, NOTIFY_BODY_TIMEOUT_MS);
    if (raw === "too-large") result = refused("TOO_LARGE", "body too large");
    else if (raw === "too-slow") {
      result = refused("TOO_SLOW", "body too slow");
      ctx.set("Connection", "close");
    } else if (raw === "aborted") result = refused("ABORTED", "body cut off");
    else {
      try {
        result = await handle(raw, ctx.headers);
      } catch (error) {
        // Most likely the database: nothing was committed, so asking for a retry is right.
        services.logger.error({ err: error, kind }, "notify handling failed");
        result = refused("INTERNAL", "temporarily unavailable");
      }
    }
  }
  const { acknowledged } = result.answer;
  // One line per notify: the request log's, with the outcome.
  describeRequestLog(ctx, { msg: "notify", warn: !acknowledged, fields: { kind, acknowledged, reason: result.reason } });
  const reply = services.gateway.notifyReply(result.answer);
  ctx.status = reply.status;
  ctx.type = reply.contentType;
  ctx.body = reply.body;
}

/** The two routes WeChat Pay calls. */
export function createWxPayRouter(services: ServiceContext): Router {
  const router = new Router();
  router.post("/wxpay/notify", (ctx) => receive(ctx, services, "pay", (body, headers) => handlePayNotify(services, body, headers)));
  router.post("/wxpay/refund-notify", (ctx) => receive(ctx, services, "refund", (body, headers) => handleRefundNotify(services, body, headers)));
  return router;
}
