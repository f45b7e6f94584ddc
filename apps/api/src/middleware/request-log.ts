import { randomUUID } from "node:crypto";
import type { Middleware } from "koa";
import type { Logger } from "pino";

/** Tags each request with an id (kept from X-Request-Id when sane) and logs one line when it ends. */
export function createRequestLog(logger: Logger): Middleware {
  return async function logRequest(ctx, next) {
    const given = ctx.get("x-request-id");
    const id = /^[\w-]{1,64}$/.test(given) ? given : randomUUID();
    ctx.state.requestId = id;
    ctx.set("X-Request-Id", id);
    const started = performance.now();
    try {
      await next();
    } finally {
      logger.info({ requestId: id, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) }, "request");
    }
  };
}
