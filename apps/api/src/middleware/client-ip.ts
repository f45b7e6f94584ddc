import type { Context, Next } from "koa";

/**
 * The client's address behind `hops` proxies of our own (issue 21, TRUST_PROXY_HOPS): the `hops`-th address from
 * the right of X-Forwarded-For, the one our outermost proxy saw connect (the leftmost when the header holds fewer,
 * all of them then written by our proxies); the connection's own address when there is no header. This is how
 * Koa's `app.proxy` with `maxIpsCount = hops` picks `ctx.ip`, without the rest of `app.proxy` (which would also
 * trust X-Forwarded-Host and X-Forwarded-Proto, and the console's same-origin check reads the host).
 * Every address left of it was written by the client and is never trusted.
 */
export function clientAddress(forwardedFor: string | undefined, hops: number, socketAddress: string): string {
  if (hops <= 0 || forwardedFor === undefined) return socketAddress;
  const addresses = forwardedFor
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  return addresses.slice(-hops)[0] ?? socketAddress;
}

/** Sets `ctx.ip` (rate limits, the staff sign-in throttle, the audit log read it) from X-Forwarded-For behind `hops` proxies. */
export function createClientIp(hops: number): (ctx: Context, next: Next) => Promise<void> {
  if (!Number.isInteger(hops) || hops < 1) throw new Error(`createClientIp: hops must be a whole number of proxies, at least 1 (got ${hops})`);
  return function clientIp(ctx, next) {
    const header = ctx.req.headers["x-forwarded-for"];
    ctx.request.ip = clientAddress(Array.isArray(header) ? header.join(",") : header, hops, ctx.req.socket.remoteAddress ?? "");
    return next();
  };
}
