import { Readable } from "node:stream";
import Router, { type RouterMiddleware } from "@koa/router";
import {
  API_ROUTES,
  NoBodySchema,
  STAFF_SESSION_COOKIE,
  type AdminActor,
  type ApiAuth,
  type ApiResponseBody,
  type ApiRouteName,
  type ApiRoutes,
  type ApiRouteSpec,
} from "@pay/core/contract";
import type { Context, Middleware } from "koa";
import type { z } from "zod";
import type { Clock } from "../clock.js";
import { ApiError } from "../errors.js";
import { readJsonBody, readNoBody, type JsonBodyOptions } from "../http/body.js";
import { readIdempotencyKey } from "../http/idempotency.js";
import { parseInput } from "../http/validate.js";
import { identifyBackOffice, requireCsrf, requireOperator, requireUser } from "../middleware/auth.js";
import type { SessionTokens } from "../services/session-tokens.js";
import { auditActorOf, type AuditRecord, type AuditScalar } from "../services/staff/audit.js";
import type { StaffSessionInfo } from "../services/staff/sessions.js";

/** A signed-in user: the routes with auth "user". */
export interface UserCaller {
  readonly kind: "user";
  readonly userId: string;
}
/** The back office, which carries no user id: the routes with auth "admin" and "operator". `actor` is the staff member or ADMIN_TOKEN. */
export interface AdminCaller {
  readonly kind: "admin";
  readonly actor: AdminActor;
}
/** Anyone: the routes with auth "none". */
export interface AnonymousCaller {
  readonly kind: "anonymous";
}

/** The caller a route's auth admits. */
export type CallerOf<A extends ApiAuth> = A extends "user" ? UserCaller : A extends "admin" | "operator" ? AdminCaller : AnonymousCaller;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * What a handler receives for a route spec: the caller its auth admits, and the parsed (z.output)
 * params, Idempotency-Key, body and query, each only where the spec takes it.
 */
export type RouteInputOf<S extends ApiRouteSpec> = Simplify<
  { readonly caller: CallerOf<S["auth"]> } & (S["params"] extends z.ZodType ? { readonly params: z.output<S["params"]> } : unknown) &
    (S["idempotencyKey"] extends "required"
      ? { readonly idempotencyKey: string }
      : S["idempotencyKey"] extends "optional"
        ? { readonly idempotencyKey: string | undefined }
        : unknown) &
    (S["body"] extends typeof NoBodySchema ? unknown : { readonly body: z.output<S["body"]> }) &
    (S["query"] extends z.ZodType ? { readonly query: z.output<S["query"]> } : unknown)
>;

/** The routes that open, show and end a console session: only they receive a StaffSessionControl. */
export const STAFF_SESSION_ROUTES = ["staffSignIn", "getStaffSession", "staffSignOut"] as const satisfies readonly ApiRouteName[];
export type StaffSessionRouteName = (typeof STAFF_SESSION_ROUTES)[number];

/** What the session routes may do beyond answering: see the request's address and the caller's session, and set or clear the cookie. */
export interface StaffSessionControl {
  readonly ip: string;
  readonly userAgent: string | undefined;
  /** The caller's console session: set for a cookie caller of getStaffSession / staffSignOut; undefined for ADMIN_TOKEN and on sign-in. */
  readonly current: StaffSessionInfo | undefined;
  /** Sets the HttpOnly session cookie (Secure in production, SameSite=Strict, Path=/api/admin, Max-Age). */
  setCookie(token: string, maxAgeSeconds: number): void;
  /** Clears the session cookie. */
  clearCookie(): void;
}

/** What the handler of route N receives, derived from its entry in API_ROUTES (and, for the session routes, their StaffSessionControl). */
export type RouteInput<N extends ApiRouteName> = N extends StaffSessionRouteName
  ? Simplify<RouteInputOf<ApiRoutes[N]> & { readonly session: StaffSessionControl }>
  : RouteInputOf<ApiRoutes[N]>;

const ACCEPTED: unique symbol = Symbol("accepted");

/** A handler's answer that the work it started goes on: sent with the route's `accepted` status (202), the body showing where it stands. */
export interface Accepted<T> {
  readonly [ACCEPTED]: true;
  readonly body: T;
}

/** Marks `body` as the answer of work still going on (only the routes whose spec declares `accepted` may return it). */
export function accepted<T>(body: T): Accepted<T> {
  return { [ACCEPTED]: true, body };
}

function isAccepted(value: unknown): value is Accepted<unknown> {
  return typeof value === "object" && value !== null && ACCEPTED in value;
}

/** What route N may answer with besides its success body: an Accepted one when its spec declares the 202, else nothing. */
export type AcceptedOf<N extends ApiRouteName> = ApiRoutes[N] extends { readonly accepted: 202 } ? Accepted<ApiResponseBody<N>> : never;

/** What route N answers with: its response body, or for a route that `produces` a file (CSV), that text whole or streamed piece by piece. */
export type AnswerOf<N extends ApiRouteName> = ApiRoutes[N] extends { readonly produces: string } ? ApiResponseBody<N> | AsyncIterable<string> : ApiResponseBody<N>;

/** Answers one route: parsed input in, the route's success body out (sent with the route's status), or accepted(body) where the route declares a 202. */
export type RouteHandler<N extends ApiRouteName> = (input: RouteInput<N>) => Promise<AnswerOf<N> | AcceptedOf<N>> | AnswerOf<N> | AcceptedOf<N>;

/** One handler per contract route: a missing route, an extra one or a wrong answer fails to compile. */
export type ApiHandlers = { readonly [N in ApiRouteName]: RouteHandler<N> };

/** What the auth checks need. */
export interface ContractRouterAuth {
  readonly tokens: SessionTokens;
  readonly clock: Clock;
  readonly adminToken: string;
  readonly staff: StaffGate;
  /** Issue 21: per route, a check run right after auth, before anything else is read or done; it throws (429) to refuse. */
  readonly rateLimits?: RouteRateLimits | undefined;
}

/** Who is asking, as a rate limit sees it: the caller auth admitted and the client address (TRUST_PROXY_HOPS applied). */
export interface RateLimitSubject {
  readonly caller: UserCaller | AdminCaller | AnonymousCaller;
  readonly ip: string;
}

/** The rate-limit checks of the routes that have one. */
export type RouteRateLimits = Partial<Readonly<Record<ApiRouteName, (subject: RateLimitSubject) => Promise<void>>>>;

/** The console's side of auth: the session cookie's check, whether cookies are Secure, and the audit log. */
export interface StaffGate {
  /** The live session a cookie token names, or undefined. */
  authenticate(token: string): Promise<StaffSessionInfo | undefined>;
  /** Secure cookies (NODE_ENV=production). */
  readonly secureCookie: boolean;
  /** Writes one audit entry; never throws (a failure is logged). */
  audit(record: AuditRecord): Promise<void>;
}

/** Sends a route's answer with the status the contract gives it. */
export function send<N extends ApiRouteName>(ctx: Context, route: N, body: ApiResponseBody<N>): void {
  ctx.status = API_ROUTES[route].status;
  ctx.body = body;
}

const ANONYMOUS: AnonymousCaller = { kind: "anonymous" };

type Caller = UserCaller | AdminCaller | AnonymousCaller;
interface Admitted {
  readonly caller: Caller;
  /** The back-office actor once identified (also when a later check refuses it), for the audit log. */
  readonly actor: AdminActor | undefined;
  readonly session: StaffSessionInfo | undefined;
}

/**
 * The auth check of a route. Back office: identify (ADMIN_TOKEN or the session cookie: 401), then the role
 * (operator routes: 403 for a viewer), then, for a cookie caller's non-GET call, cross-site and CSRF (403
 * CSRF_FAILED). `identified` receives the actor as soon as it is known, so a refusal is audited with it.
 */
function callerCheck(route: ApiRouteSpec, options: ContractRouterAuth): (ctx: Context, identified: (actor: AdminActor) => void) => Promise<Admitted> {
  switch (route.auth) {
    case "none":
      return () => Promise.resolve({ caller: ANONYMOUS, actor: undefined, session: undefined });
    case "user":
      return (ctx) => Promise.resolve({ caller: { kind: "user", userId: requireUser(ctx, options.tokens, options.clock) }, actor: undefined, session: undefined });
    case "admin":
    case "operator": {
      const operator = route.auth === "operator";
      const changes = route.method !== "GET";
      return async (ctx, identified) => {
        const { actor, session } = await identifyBackOffice(ctx, options.adminToken, (token) => options.staff.authenticate(token));
        identified(actor);
        if (operator) requireOperator(actor);
        if (session !== undefined && changes) requireCsrf(ctx, session);
        return { caller: { kind: "admin", actor }, actor, session };
      };
    }
  }
}

/** `Set-Cookie` for the console session (written by hand: koa's cookies refuse Secure on a connection they think is plain, behind a TLS proxy). */
function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${STAFF_SESSION_COOKIE}=${value}; Path=/api/admin; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

function sessionControl(ctx: Context, session: StaffSessionInfo | undefined, secure: boolean): StaffSessionControl {
  const userAgent = ctx.get("user-agent");
  return {
    ip: ctx.ip,
    userAgent: userAgent === "" ? undefined : userAgent,
    current: session,
    setCookie: (token, maxAgeSeconds) => ctx.append("Set-Cookie", sessionCookie(token, maxAgeSeconds, secure)),
    clearCookie: () => ctx.append("Set-Cookie", sessionCookie("", 0, secure)),
  };
}

/** Request fields never written to the audit log, whatever the route. */
const SECRET_FIELD = /secret|password|token|key/i;

/** The request's scalar fields (arrays of scalars joined), without secrets: what an audit entry's detail keeps. */
function auditDetail(body: unknown): Record<string, AuditScalar> {
  const detail: Record<string, AuditScalar> = {};
  if (typeof body !== "object" || body === null || Array.isArray(body)) return detail;
  for (const [field, value] of Object.entries(body as Record<string, unknown>)) {
    if (SECRET_FIELD.test(field)) continue;
    if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean") detail[field] = value;
    else if (Array.isArray(value) && value.every((item) => typeof item === "string" || typeof item === "number")) detail[field] = value.join(",");
  }
  return detail;
}

/** What an audited call acted on, from its path parameters (by the path's kind), its body or its answer. */
function auditTarget(name: ApiRouteName, path: string, params: Record<string, unknown>, body: unknown, answer: unknown, actor: AdminActor | undefined): string | null {
  const field = (value: unknown, key: string): string | undefined => {
    if (typeof value !== "object" || value === null) return undefined;
    const found = (value as Record<string, unknown>)[key];
    return typeof found === "string" ? found : undefined;
  };
  switch (name) {
    case "staffSignIn": {
      const username = field(body, "username");
      return username === undefined ? null : `staff:${username}`;
    }
    case "staffSignOut":
      return actor?.kind === "staff" ? `staff:${actor.username}` : null;
    case "createWebhookEndpoint": {
      const id = field(typeof answer === "object" && answer !== null ? (answer as Record<string, unknown>).endpoint : undefined, "id");
      return id === undefined ? null : `webhook-endpoint:${id}`;
    }
    case "replayFailedWebhookDeliveries": {
      const id = field(body, "endpointId");
      return id === undefined ? null : `webhook-endpoint:${id}`;
    }
    default:
      break;
  }
  const date = field(params, "date");
  if (date !== undefined) return `reconciliation:${date}`;
  const id = field(params, "id");
  if (id === undefined) return null;
  if (path.startsWith("/api/admin/orders/")) return `order:${id}`;
  if (path.startsWith("/api/admin/webhook-endpoints/")) return `webhook-endpoint:${id}`;
  if (path.startsWith("/api/admin/webhook-events/")) return `webhook-event:${id}`;
  return `${name}:${id}`;
}

/** The calls written to the audit log: every operator route, and signing in and out of the console. */
function isAudited(name: ApiRouteName, route: ApiRouteSpec): boolean {
  return route.auth === "operator" || name === "staffSignIn" || name === "staffSignOut";
}

/** The Beijing calendar day (UTC+8, no daylight saving) of an instant, for file names. */
function beijingDate(ms: number): string {
  return new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 10);
}

/** Sends a route's file answer (text whole, or streamed as the handler yields it) as a download named `<base>.csv`. */
function sendFile(ctx: Context, type: "text/csv", base: string, answer: string | AsyncIterable<string>): void {
  ctx.type = `${type}; charset=utf-8`;
  ctx.set("Content-Disposition", `attachment; filename="${base}.csv"`);
  ctx.body = typeof answer === "string" ? answer : Readable.from(answer);
}

/**
 * Builds a route's middleware once; the input it hands on is shaped exactly as RouteInput<N> says.
 * (That a route's params schema has exactly its path's `:name` keys is checked where the table is.)
 */
function routeMiddleware(name: ApiRouteName, handler: (input: Record<string, unknown>) => unknown, auth: ContractRouterAuth, bodies: JsonBodyOptions): RouterMiddleware {
  const route: ApiRouteSpec = API_ROUTES[name];
  const check = callerCheck(route, auth);
  const audited = isAudited(name, route);
  const sessionRoute = (STAFF_SESSION_ROUTES as readonly ApiRouteName[]).includes(name);
  const { params, query, body, idempotencyKey } = route;
  const rateLimit = auth.rateLimits?.[name];
  // The checks run in this order (auth, rate limit, params, Idempotency-Key, body or query): it decides which error a bad request gets.
  return async function contractRoute(ctx): Promise<void> {
    const input: Record<string, unknown> = {};
    let actor: AdminActor | undefined;
    let answer: unknown;
    try {
      const admitted = await check(ctx, (identified) => (actor = identified));
      input.caller = admitted.caller;
      // Before the body is read and before anything is written or called: a refused request costs one statement.
      if (rateLimit !== undefined) await rateLimit({ caller: admitted.caller, ip: ctx.ip });
      if (sessionRoute) input.session = sessionControl(ctx, admitted.session, auth.staff.secureCookie);
      if (params !== null) input.params = parseInput(params, { ...ctx.params }, "params");
      if (idempotencyKey !== "none") input.idempotencyKey = readIdempotencyKey(ctx, idempotencyKey);
      if (query !== null) input.query = parseInput(query, { ...ctx.query }, "query");
      // A GET's body is never read; a POST without a body schema takes an empty body or `{}` only.
      if (route.method !== "GET") {
        if (body === NoBodySchema) await readNoBody(ctx, bodies);
        else input.body = parseInput(body, await readJsonBody(ctx, bodies), "body");
      }
      answer = await handler(input);
    } catch (error) {
      if (audited) await audit(error instanceof ApiError ? error.code : "INTERNAL");
      throw error;
    }
    if (audited) await audit("ok");
    if (isAccepted(answer)) {
      // A handler only returns accepted() where its type allows, i.e. where the spec declares the status.
      if (route.accepted === undefined) throw new Error(`contract router: ${name} answered accepted() but declares no 202`);
      ctx.status = route.accepted;
      ctx.body = answer.body;
      return;
    }
    if (route.produces !== undefined) {
      // Named after the path's last segment and today's Beijing date: /api/admin/exports/orders → orders-2026-12-03.csv.
      ctx.status = route.status;
      sendFile(ctx, route.produces, `${route.path.split("/").at(-1) ?? "export"}-${beijingDate(auth.clock())}`, answer as string | AsyncIterable<string>);
      return;
    }
    send(ctx, name, answer as ApiResponseBody<typeof name>);

    async function audit(outcome: string): Promise<void> {
      const body = name === "staffSignIn" ? undefined : input.body;
      const who = name === "staffSignIn" ? signInActor(input.body, answer) : actor === undefined ? undefined : auditActorOf(actor);
      // An unidentified caller (401) is not audited: there is nobody to name.
      if (who === undefined) return;
      const key = input.idempotencyKey;
      await auth.staff.audit({
        at: auth.clock(),
        actor: who,
        action: name,
        target: auditTarget(name, route.path, { ...ctx.params }, input.body, answer, actor),
        idempotencyKey: typeof key === "string" ? key : null,
        outcome,
        detail: auditDetail(body),
        ip: ctx.ip,
      });
    }
  };
}

/** The actor of a sign-in attempt: the account it signed in, else the username it named (the id unknown). */
function signInActor(body: unknown, answer: unknown): AuditRecord["actor"] {
  const signedIn = (answer as { actor?: AdminActor } | undefined)?.actor;
  if (signedIn?.kind === "staff") return { kind: "staff", id: signedIn.id, username: signedIn.username };
  const username = typeof body === "object" && body !== null ? (body as Record<string, unknown>).username : undefined;
  return { kind: "staff", id: null, username: typeof username === "string" ? username.slice(0, 64) : null };
}

/**
 * The JSON API registered from API_ROUTES, in the table's order: each route's method and path, its
 * auth, params, Idempotency-Key rule, body or query and success status come from the contract; the
 * handlers only turn parsed input into the route's answer. Paths outside the table are not served.
 */
export function createContractRouter(handlers: ApiHandlers, auth: ContractRouterAuth, bodies: JsonBodyOptions = {}): Router {
  const router = new Router();
  for (const name of Object.keys(API_ROUTES) as ApiRouteName[]) {
    const handler: unknown = handlers[name];
    if (typeof handler !== "function") throw new Error(`createContractRouter: no handler for ${name}.`);
    const route = API_ROUTES[name];
    // RouteInput<N> is built field by field from the same table entry, which the type cannot follow.
    router.register(route.path, [route.method], routeMiddleware(name, handler as (input: Record<string, unknown>) => unknown, auth, bodies));
  }
  return router;
}

/** One route of a router as the direct dispatch matches it: `/lit/:name/...`, literals lower case. */
interface DirectRoute {
  /** Per path segment: the literal, or null for a parameter. */
  readonly segments: readonly (string | null)[];
  /** The parameter names, in path order. */
  readonly names: readonly string[];
  readonly methods: ReadonlySet<string>;
  readonly handle: RouterMiddleware;
}

/** A path of literal lower-case segments and `:name` parameters only: what the direct dispatch can match exactly as @koa/router does. */
const SIMPLE_PATH = /^(?:\/(?:[a-z0-9_-]+|:[A-Za-z_]\w*))+$/;

/** @koa/router's decoding of a parameter: a malformed escape stays as sent. */
function decodeParam(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The router's middleware with a direct dispatch in front: a request that matches one of its routes (method and path,
 * as @koa/router matches them: case-insensitive literals, one optional trailing slash, non-empty decoded parameters,
 * the first route in the table that matches) goes straight to that route's middleware, without the router's scan of
 * every route's regular expression, its middleware chain and its bookkeeping (about a twentieth of a GET
 * /api/orders/:id, docs/performance/round3-http.md). Everything else (no route, another method: 404, 405, OPTIONS) goes through
 * the router itself. The routes answer and never call `next`, so no later route could have run.
 */
export function contractRoutes(router: Router): Middleware {
  const fallback = router.routes() as unknown as Middleware;
  const routes: DirectRoute[] = [];
  for (const layer of router.stack) {
    const [handle, ...more] = layer.stack;
    // Anything the direct dispatch cannot match exactly as the router would (a pattern, a router.use(), several middlewares): the router alone.
    if (typeof layer.path !== "string" || !SIMPLE_PATH.test(layer.path) || layer.methods.length === 0 || handle === undefined || more.length > 0) return fallback;
    const segments = layer.path
      .split("/")
      .slice(1)
      .map((segment) => (segment.startsWith(":") ? null : segment));
    const names = layer.path
      .split("/")
      .filter((segment) => segment.startsWith(":"))
      .map((segment) => segment.slice(1));
    routes.push({ segments, names, methods: new Set(layer.methods), handle });
  }
  const bySegmentCount = new Map<number, DirectRoute[]>();
  for (const route of routes) {
    const list = bySegmentCount.get(route.segments.length) ?? [];
    list.push(route);
    bySegmentCount.set(route.segments.length, list);
  }
  return function dispatchContractRoute(ctx, next) {
    let path = ctx.path;
    if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
    const parts = path.split("/");
    const candidates = bySegmentCount.get(parts.length - 1);
    if (candidates !== undefined) {
      for (const route of candidates) {
        if (!route.methods.has(ctx.method) || !matches(route, parts)) continue;
        const params: Record<string, string> = {};
        let name = 0;
        route.segments.forEach((segment, index) => {
          if (segment === null) params[route.names[name++] ?? ""] = decodeParam(parts[index + 1] ?? "");
        });
        const routed = ctx as Context & { params: Record<string, string>; request: { params: Record<string, string> } };
        routed.params = params;
        routed.request.params = params;
        return route.handle(ctx as Parameters<RouterMiddleware>[0], next) as Promise<void>;
      }
    }
    return fallback(ctx, next) as Promise<void>;
  };
}

function matches(route: DirectRoute, parts: readonly string[]): boolean {
  for (const [index, segment] of route.segments.entries()) {
    const part = parts[index + 1] ?? "";
    if (segment === null) {
      if (part === "") return false;
    } else if (part !== segment && (part.length !== segment.length || part.toLowerCase() !== segment)) return false;
  }
  return true;
}
