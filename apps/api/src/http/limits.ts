/**
 * What one client may hold of the public server (issue 21, "server timeouts and limits"): how long its
 * headers, its whole request and its JSON body may take, how long an idle keep-alive or silent socket
 * stays open, how many requests one connection serves and how large its headers may be. The notify
 * routes keep their own body limits (services/notifies.ts).
 */
export interface HttpLimits {
  /** HTTP_REQUEST_TIMEOUT_MS: the whole request (headers and body) must arrive within this; else 408 and the connection closes. */
  readonly requestTimeoutMs: number;
  /** HTTP_HEADERS_TIMEOUT_MS: the headers must arrive within this (at most requestTimeoutMs); else 408 and the connection closes. */
  readonly headersTimeoutMs: number;
  /** HTTP_KEEP_ALIVE_TIMEOUT_MS: an idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** HTTP_SOCKET_IDLE_TIMEOUT_MS: a connection with no traffic either way for this long is destroyed (e.g. a client that stopped reading its answer). */
  readonly socketIdleTimeoutMs: number;
  /** HTTP_MAX_REQUESTS_PER_SOCKET: a keep-alive connection is closed after serving this many requests. */
  readonly maxRequestsPerSocket: number;
  /** HTTP_MAX_HEADER_BYTES: request line and headers together; larger is refused with 431 before any route runs. */
  readonly maxHeaderBytes: number;
  /** HTTP_BODY_TIMEOUT_MS: a JSON body (every /api route that reads one) must arrive within this once its route starts reading it. */
  readonly jsonBodyTimeoutMs: number;
}

/** The defaults (the values before issue 21 where there were any: 15 s, 10 s, 5 s; Node's 16 KiB header cap). */
export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestTimeoutMs: 15_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  socketIdleTimeoutMs: 120_000,
  maxRequestsPerSocket: 1_000,
  maxHeaderBytes: 16 * 1024,
  jsonBodyTimeoutMs: 5_000,
};

/** API_MAX_IN_FLIGHT's default: /api requests one process works on at once before it answers 503 OVERLOADED. */
export const DEFAULT_API_MAX_IN_FLIGHT = 256;

/**
 * How often Node looks for requests past their headers or request timeout. Node's default is 30 s, which
 * would let a slowloris client hold a socket up to 30 s past the timeout: a quarter of the headers timeout,
 * between 100 ms and 1 s.
 */
export function connectionsCheckingIntervalMs(limits: Pick<HttpLimits, "headersTimeoutMs">): number {
  return Math.min(1_000, Math.max(100, Math.floor(limits.headersTimeoutMs / 4)));
}
