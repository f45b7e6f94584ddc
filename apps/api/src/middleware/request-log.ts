import { randomUUID } from "node:crypto";
import type { Context, Middleware } from "koa";
import type { Logger } from "pino";

/** What a route adds to its request's one log line (see `describeRequestLog`). */
export interface RequestLogEntry {
  /** The line's message instead of "request". */
  readonly msg: string;
  /** Logged at warn instead of info. */
  readonly warn: boolean;
  readonly fields: Readonly<Record<string, unknown>>;
}

const ENTRY = Symbol("requestLogEntry");

/**
 * Lets a route fold what it would log into its request's line, so a request costs one log line (the
 * notify routes: kind, outcome and reason beside status and time).
 */
export function describeRequestLog(ctx: Context, entry: RequestLogEntry): void {
  (ctx.state as Record<symbol, RequestLogEntry>)[ENTRY] = entry;
}

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
      const line = { requestId: id, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) };
      const entry = (ctx.state as Record<symbol, RequestLogEntry | undefined>)[ENTRY];
      if (entry === undefined) logger.info(line, "request");
      else logger[entry.warn ? "warn" : "info"]({ ...line, ...entry.fields }, entry.msg);
    }
  };
}
