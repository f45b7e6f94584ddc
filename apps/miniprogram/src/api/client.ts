import type { ApiRequestBody, ApiResponseBody, ApiRouteName, ApiRoutes, PathParamNames } from "@pay/core/contract";
import type { z } from "zod";
import { API_ROUTES, CONTRACT_VERSION_HEADER } from "../lib/pay-core.js";
import type { Clock } from "../utils/clock.js";
import type { WxPort } from "../utils/wx-port.js";
import { describeMismatch, headerValue, parseApiErrorBody, parseRetryAfter, type CallResult, type ClientError } from "./errors.js";
import { createSessionStore } from "./session.js";

const DEFAULT_TIMEOUT_MS = 15_000;
const LOGIN_TIMEOUT_MS = 10_000;

/** The routes a shopper's client calls: not the back office's (admin and operator routes, and staff sign-in under /api/admin/). */
export type ClientRouteName = {
  [N in ApiRouteName]: ApiRoutes[N]["auth"] extends "admin" | "operator" ? never : ApiRoutes[N]["path"] extends `/api/admin/${string}` ? never : N;
}[ApiRouteName];

type RouteOf<N extends ClientRouteName> = ApiRoutes[N];

/** Fills a route path's `:name` segments, URL-encoded. */
export function fillPath(path: string, params: Readonly<Record<string, string>>): string {
  return path.replace(/:([A-Za-z]+)/g, (_match, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`fillPath: no value for :${name} in ${path}`);
    return encodeURIComponent(value);
  });
}

/** What a call takes besides its name: path params, body, query and Idempotency-Key, each only where the route has one. */
export type CallInput<N extends ClientRouteName> = ([PathParamNames<RouteOf<N>["path"]>] extends [never]
  ? { readonly params?: undefined }
  : { readonly params: Readonly<Record<PathParamNames<RouteOf<N>["path"]>, string>> }) &
  ([ApiRequestBody<N>] extends [undefined] ? { readonly body?: undefined } : { readonly body: ApiRequestBody<N> }) &
  (RouteOf<N>["query"] extends z.ZodType ? { readonly query?: Partial<z.output<RouteOf<N>["query"]>> } : { readonly query?: undefined }) &
  (RouteOf<N>["idempotencyKey"] extends "none" ? { readonly idempotencyKey?: undefined } : { readonly idempotencyKey?: string });

/** The API as the mini-program sees it: typed by the contract, promise-based, failures as values. */
export interface ApiClient {
  /** The route's success body, checked against its response schema; anything else is a ClientError. */
  call<N extends ClientRouteName>(name: N, input: CallInput<N>): Promise<CallResult<ApiResponseBody<N>>>;
}

export interface ApiClientOptions {
  readonly wx: WxPort;
  /** The API's origin, e.g. `https://pay.example.com` (set at build time). */
  readonly baseUrl: string;
  readonly contractVersion: string;
  readonly clock: Pick<Clock, "now">;
  readonly timeoutMs?: number;
}

type Answer = { readonly kind: "response"; readonly status: number; readonly data: unknown; readonly header: unknown } | { readonly kind: "network"; readonly errMsg: string };

interface LooseInput {
  readonly params?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly idempotencyKey?: string;
}

/** wx.request as a promise that always resolves: an HTTP answer of any status, or the network failure. */
function send(wx: WxPort, url: string, method: "GET" | "POST", header: Record<string, string>, body: unknown, timeout: number): Promise<Answer> {
  return new Promise((resolve) => {
    wx.request({
      url,
      method,
      header,
      ...(body === undefined ? {} : { data: body as Record<string, unknown> }),
      dataType: "json",
      responseType: "text",
      timeout,
      success: (result) => resolve({ kind: "response", status: result.statusCode, data: result.data, header: result.header }),
      fail: (result) => resolve({ kind: "network", errMsg: result.errMsg }),
    });
  });
}

/** wx.login's one-time code, or why there is none. */
function wxLoginCode(wx: WxPort): Promise<CallResult<string>> {
  return new Promise((resolve) => {
    wx.login({
      timeout: LOGIN_TIMEOUT_MS,
      success: (result) => resolve(result.code ? { ok: true, value: result.code } : failed({ kind: "login", message: result.errMsg || "wx.login returned no code" })),
      fail: (result) => resolve(failed({ kind: "login", message: result.errMsg })),
    });
  });
}

function queryString(query: LooseInput["query"]): string {
  if (query === undefined) return "";
  const pairs = Object.keys(query)
    .filter((name) => query[name] !== undefined)
    .map((name) => `${encodeURIComponent(name)}=${encodeURIComponent(String(query[name]))}`);
  return pairs.length === 0 ? "" : `?${pairs.join("&")}`;
}

function failed(error: ClientError): { readonly ok: false; readonly error: ClientError } {
  return { ok: false, error };
}

/**
 * A route's success body, parsed with the route's response schema, or the error its answer
 * describes. A success status with a body the schema refuses (a missing field, a wrong type, an extra
 * payment field, an unknown currency) is an error value too: no page ever sees an unchecked body.
 */
function interpret<N extends ClientRouteName>(name: N, answer: Answer, now: number): CallResult<ApiResponseBody<N>> {
  if (answer.kind === "network") return failed({ kind: "network", message: answer.errMsg });
  const route: RouteOf<ClientRouteName> = API_ROUTES[name];
  if (answer.status !== route.status) {
    const wait = parseRetryAfter(headerValue(answer.header, "Retry-After"), now);
    return failed(
      parseApiErrorBody(answer.status, answer.data, wait) ?? {
        kind: "http",
        status: answer.status,
        message: `HTTP ${answer.status}`,
        ...(wait === undefined ? {} : { retryAfterSeconds: wait }),
      },
    );
  }
  const parsed = route.response.safeParse(answer.data);
  if (!parsed.success) return failed({ kind: "http", status: answer.status, code: "INVALID_RESPONSE", message: describeMismatch(name, parsed.error.issues) });
  return { ok: true, value: parsed.data as ApiResponseBody<N> };
}

function isUnauthorized(answer: Answer): boolean {
  if (answer.kind !== "response" || answer.status !== 401) return false;
  const error = parseApiErrorBody(answer.status, answer.data);
  return error?.kind === "api" && error.code === "UNAUTHORIZED";
}

/** Where a refusal's wait applies: OVERLOADED (or a proxy's 503) to the whole API, anything else to its own route. */
type WaitScope = ClientRouteName | "api";
/** The errors that can name a wait. */
type RefusalError = Extract<ClientError, { readonly kind: "api" | "http" }>;

function waitScope(name: ClientRouteName, error: RefusalError): WaitScope {
  if (error.kind === "api" && error.code === "OVERLOADED") return "api";
  if (error.kind === "http" && error.status === 503) return "api";
  return name;
}

/**
 * Builds the client. Signing in is lazy: the first call that needs a user runs wx.login and
 * POST /api/session (concurrent calls share one sign-in) and keeps the token in storage. A 401 clears
 * it, signs in again once and repeats the call once.
 *
 * A refusal that names a wait (429 RATE_LIMITED, 503 OVERLOADED or GATEWAY_UNAVAILABLE, with
 * `retryAfterSeconds` or Retry-After) is remembered: until it has passed, a call of the same route (of
 * any route, for OVERLOADED) is answered here with the same error and the seconds left, and sends
 * nothing. So no page, poll or sign-in asks again before the server said it may.
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  if (!/^https?:\/\/[^/?#\s]+$/.test(options.baseUrl))
    throw new Error(`createApiClient: baseUrl must be an origin like https://pay.example.com, got ${JSON.stringify(options.baseUrl)}`);
  const { wx, baseUrl, contractVersion, clock } = options;
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const session = createSessionStore(wx);
  let signingIn: Promise<CallResult<string>> | undefined;
  const waits = new Map<WaitScope, { readonly until: number; readonly error: RefusalError }>();

  /** The refusal still in force for `name`, with the seconds left; undefined when the route may be called. */
  function held(name: ClientRouteName): ClientError | undefined {
    const now = clock.now();
    let longest: { readonly until: number; readonly error: RefusalError } | undefined;
    for (const scope of [name, "api"] as const) {
      const wait = waits.get(scope);
      if (wait === undefined) continue;
      if (wait.until <= now) waits.delete(scope);
      else if (longest === undefined || wait.until > longest.until) longest = wait;
    }
    if (longest === undefined) return undefined;
    return { ...longest.error, retryAfterSeconds: Math.ceil((longest.until - now) / 1000) };
  }

  /** The route's answer, read; a refusal with a wait is remembered for held(). */
  function answerOf<N extends ClientRouteName>(name: N, answer: Answer): CallResult<ApiResponseBody<N>> {
    const now = clock.now();
    const result = interpret(name, answer, now);
    if (!result.ok && (result.error.kind === "api" || result.error.kind === "http") && result.error.retryAfterSeconds !== undefined) {
      const scope = waitScope(name, result.error);
      const until = now + result.error.retryAfterSeconds * 1000;
      if ((waits.get(scope)?.until ?? 0) < until) waits.set(scope, { until, error: result.error });
    }
    return result;
  }

  async function signInNow(): Promise<CallResult<string>> {
    const refused = held("createSession");
    if (refused !== undefined) return failed(refused);
    const code = await wxLoginCode(wx);
    if (!code.ok) return code;
    const answer = await send(wx, `${baseUrl}${API_ROUTES.createSession.path}`, API_ROUTES.createSession.method, baseHeader(true), { code: code.value }, timeout);
    const result = answerOf("createSession", answer);
    if (!result.ok) return result;
    session.save(result.value);
    return { ok: true, value: result.value.token };
  }

  function signIn(): Promise<CallResult<string>> {
    signingIn ??= signInNow().then((result) => {
      signingIn = undefined;
      return result;
    });
    return signingIn;
  }

  function baseHeader(hasBody: boolean): Record<string, string> {
    const header: Record<string, string> = { [CONTRACT_VERSION_HEADER]: contractVersion };
    if (hasBody) header["Content-Type"] = "application/json";
    return header;
  }

  return {
    async call(name, input) {
      const route: RouteOf<ClientRouteName> = API_ROUTES[name];
      const loose = input as LooseInput;
      const url = `${baseUrl}${fillPath(route.path, loose.params ?? {})}${queryString(loose.query)}`;
      const header = baseHeader(loose.body !== undefined);
      if (loose.idempotencyKey !== undefined) header["Idempotency-Key"] = loose.idempotencyKey;
      const attempt = (token: string | undefined): Promise<Answer> =>
        send(wx, url, route.method, token === undefined ? header : { ...header, Authorization: `Bearer ${token}` }, loose.body, timeout);

      const refused = held(name);
      if (refused !== undefined) return failed(refused);
      if (route.auth === "none") return answerOf(name, await attempt(undefined));
      const stored = session.read(clock.now());
      const token: CallResult<string> = stored === undefined ? await signIn() : { ok: true, value: stored };
      if (!token.ok) return token;
      const answer = await attempt(token.value);
      if (!isUnauthorized(answer)) return answerOf(name, answer);
      // The token was revoked or the server's secret rotated: one fresh sign-in, one more try. A call
      // that was refused alongside another one reuses the token the other one already fetched.
      const current = session.read(clock.now());
      let fresh: CallResult<string>;
      if (current !== undefined && current !== token.value) {
        fresh = { ok: true, value: current };
      } else {
        session.clear();
        fresh = await signIn();
      }
      if (!fresh.ok) return fresh;
      return answerOf(name, await attempt(fresh.value));
    },
  };
}
