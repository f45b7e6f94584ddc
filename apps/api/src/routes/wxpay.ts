import Router from "@koa/router";
import type { Context } from "koa";
import type { NotifyHeaders, PaymentGateway } from "../gateway/port.js";
import { PROTOCOL_NAMES, PROTOCOLS, type Protocol } from "../gateway/registry.js";
import { readRaw } from "../http/body.js";
import { describeRequestLog } from "../middleware/request-log.js";
import type { ServiceContext } from "../services/context.js";
import {
  handlePayNotify,
  handleRefundNotify,
  MAX_NOTIFY_BYTES,
  NOTIFY_BODY_TIMEOUT_MS,
  recordNotify,
  refusedUnread as refused,
  type NotifyHandling,
  type RecordedNotify,
} from "../services/notifies.js";

type NotifyKind = "pay" | "refund";

type NotifyHandler = (services: ServiceContext, body: Uint8Array, headers: NotifyHeaders, protocol: Protocol) => Promise<NotifyHandling>;

const HANDLERS: Readonly<Record<NotifyKind, NotifyHandler>> = { pay: handlePayNotify, refund: handleRefundNotify };

/**
 * Receives a notify: only the protocol's content types, a size-capped raw body (never a parsed one)
 * handed with its headers to the gateway adapter, and always the protocol's answer: a refusal for
 * anything refused, so WeChat Pay retries it later.
 */
async function receive(ctx: Context, services: ServiceContext, gateway: PaymentGateway, protocol: Protocol, kind: NotifyKind): Promise<void> {
  const types = gateway.notifyContentTypes;
  let result: NotifyHandling;
  // Refusals decided here, before a handler (which records its own), are recorded here.
  let unread: RecordedNotify | undefined;
  if (ctx.is([...types]) === false || ctx.get("content-type") === "") {
    result = unread = refused("WRONG_CONTENT_TYPE", `Content-Type must be ${types[0] ?? "set"}`);
  } else {
    const raw = await readRaw(ctx, MAX_NOTIFY_BYTES, NOTIFY_BODY_TIMEOUT_MS);
    if (raw === "too-large") result = unread = refused("TOO_LARGE", "body too large");
    else if (raw === "too-slow") {
      result = unread = refused("TOO_SLOW", "body too slow");
      ctx.set("Connection", "close");
    } else if (raw === "aborted") result = unread = refused("ABORTED", "body cut off");
    else {
      try {
        result = await HANDLERS[kind](services, raw, ctx.headers, protocol);
      } catch (error) {
        // Most likely the database: nothing was committed, so asking for a retry is right.
        services.logger.error({ err: error, kind, protocol }, "notify handling failed");
        result = unread = refused("INTERNAL", "temporarily unavailable");
      }
    }
  }
  if (unread !== undefined) recordNotify(services, kind, protocol, unread);
  const { acknowledged } = result.answer;
  // One line per notify: the request log's, with the outcome. v2 lines keep their fields as before.
  describeRequestLog(ctx, { msg: "notify", warn: !acknowledged, fields: { kind, acknowledged, reason: result.reason, ...(protocol === "v2" ? {} : { protocol }) } });
  const reply = gateway.notifyReply(result.answer);
  ctx.status = reply.status;
  ctx.type = reply.contentType;
  ctx.body = reply.body;
}

/**
 * The protocol whose gateway takes a refund notify at a route of `route`: the route's own, unless only
 * another configured protocol's gateway accepts the body's content type. A refund carries the
 * WXPAY_REFUND_NOTIFY_URL of the moment it is made (a pay notify URL is stored with its order), so after a
 * move to v3 a v2 refund of an old order names the v3 route: its XML notify is handed to the v2 gateway,
 * which verifies it with the v2 key, and it applies only to a v2 refund, as at the v2 route.
 */
function protocolOf(ctx: Context, services: ServiceContext, route: Protocol): Protocol {
  if (ctx.get("content-type") === "") return route;
  const own = services.gateways.of(route);
  if (own !== undefined && ctx.is([...own.notifyContentTypes]) !== false) return route;
  const other = PROTOCOLS.find((protocol) => {
    const gateway = protocol === route ? undefined : services.gateways.of(protocol);
    return gateway !== undefined && ctx.is([...gateway.notifyContentTypes]) !== false;
  });
  return other ?? route;
}

/** A notify route of a protocol: served by that protocol's gateway, or a 404 (body unread) when the process has none. */
function notifyRoute(services: ServiceContext, route: Protocol, kind: NotifyKind): (ctx: Context) => Promise<void> {
  return function receiveNotify(ctx) {
    const protocol = kind === "refund" ? protocolOf(ctx, services, route) : route;
    const gateway = services.gateways.of(protocol);
    if (gateway !== undefined) return receive(ctx, services, gateway, protocol, kind);
    recordNotify(services, kind, protocol, refused("PROTOCOL_NOT_CONFIGURED", `${PROTOCOL_NAMES[protocol]} notifies are not served here`));
    describeRequestLog(ctx, { msg: "notify", warn: true, fields: { kind, acknowledged: false, reason: "PROTOCOL_NOT_CONFIGURED", protocol } });
    // The body is not read: the connection closes after the answer instead of draining it.
    ctx.set("Connection", "close");
    ctx.status = 404;
    ctx.type = "application/json";
    ctx.body = JSON.stringify({ code: "FAIL", message: `${PROTOCOL_NAMES[protocol]} notifies are not served here` });
    return Promise.resolve();
  };
}

/** The routes WeChat Pay calls: v2's (XML) and v3's (JSON), each for the orders placed with its protocol. */
export function createWxPayRouter(services: ServiceContext): Router {
  const router = new Router();
  router.post("/wxpay/notify", notifyRoute(services, "v2", "pay"));
  router.post("/wxpay/refund-notify", notifyRoute(services, "v2", "refund"));
  router.post("/wxpay/v3/notify", notifyRoute(services, "v3", "pay"));
  router.post("/wxpay/v3/refund-notify", notifyRoute(services, "v3", "refund"));
  return router;
}
