import type { Context, Middleware } from "koa";
import type { Logger } from "pino";
import { ApiError } from "../errors.js";

export interface ErrorHandlerOptions {
  /** A synchronous check run before the rest of the chain, inside the handler (a throw is answered like a route's). */
  readonly check?: (ctx: Context) => void;
}

/**
 * The API's one error middleware: an ApiError becomes its status and `{error:{code,message}}`;
 * anything else is logged and answered as a generic 500 that reveals nothing.
 */
export function createErrorHandler(logger: Logger, options: ErrorHandlerOptions = {}): Middleware {
  const check = options.check;
  return async function handleErrors(ctx, next) {
    try {
      check?.(ctx);
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new ApiError("NOT_FOUND", `No route for ${ctx.method} ${ctx.path}.`);
      }
    } catch (thrown) {
      const error = thrown instanceof ApiError ? thrown : new ApiError("INTERNAL", "Something went wrong on our side; nothing was charged by this request.", { cause: thrown });
      if (error.code === "INTERNAL") logger.error({ err: thrown, method: ctx.method, path: ctx.path }, "unhandled error");
      ctx.status = error.status;
      if (error.retryAfterSeconds !== undefined) ctx.set("Retry-After", String(error.retryAfterSeconds));
      ctx.type = "application/json";
      ctx.body = error.toBody();
    }
  };
}
