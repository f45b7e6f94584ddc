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

export interface RequestLogOptions {
  /** Headers set on every response besides X-Request-Id (the app's contract version), so they cost no middleware of their own. */
  readonly headers?: Readonly<Record<string, string>>;
}

const REQUEST_ID = /^[\w-]{1,64}$/;

/** Tags each request with an id (kept from X-Request-Id when sane) and logs one line when it ends. */
export function createRequestLog(logger: Logger, options: RequestLogOptions = {}): Middleware {
  const headers = Object.entries(options.headers ?? {});
  return async function logRequest(ctx, next) {
    const given = ctx.get("x-request-id");
    const id = given !== "" && REQUEST_ID.test(given) ? given : randomUUID();
    ctx.state.requestId = id;
    ctx.set("X-Request-Id", id);
    for (const [name, value] of headers) ctx.set(name, value);
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
