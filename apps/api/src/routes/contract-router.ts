import { Readable } from "node:stream";
import Router, { type RouterMiddleware } from "@koa/router";
import { API_ROUTES, NoBodySchema, type ApiAuth, type ApiResponseBody, type ApiRouteName, type ApiRoutes, type ApiRouteSpec } from "@pay/core/contract";
import type { Context } from "koa";
import type { z } from "zod";
import type { Clock } from "../clock.js";
import { readJsonBody, readNoBody } from "../http/body.js";
import { readIdempotencyKey } from "../http/idempotency.js";
import { parseInput } from "../http/validate.js";
import { requireAdmin, requireUser } from "../middleware/auth.js";
import type { SessionTokens } from "../services/session-tokens.js";

/** A signed-in user: the routes with auth "user". */
export interface UserCaller {
  readonly kind: "user";
  readonly userId: string;
}
/** The back office, which carries no user id: the routes with auth "admin". */
export interface AdminCaller {
  readonly kind: "admin";
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

/** What the handler of route N receives, derived from its entry in API_ROUTES. */
export type RouteInput<N extends ApiRouteName> = RouteInputOf<ApiRoutes[N]>;

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
}

/** Sends a route's answer with the status the contract gives it. */
export function send<N extends ApiRouteName>(ctx: Context, route: N, body: ApiResponseBody<N>): void {
  ctx.status = API_ROUTES[route].status;
  ctx.body = body;
}

const ADMIN: AdminCaller = { kind: "admin" };
const ANONYMOUS: AnonymousCaller = { kind: "anonymous" };

function callerCheck(auth: ApiAuth, options: ContractRouterAuth): (ctx: Context) => UserCaller | AdminCaller | AnonymousCaller {
  switch (auth) {
    case "none":
      return () => ANONYMOUS;
    case "user":
      return (ctx) => ({ kind: "user", userId: requireUser(ctx, options.tokens, options.clock) });
    // TODO(issue 19, staff helper): staff sessions, roles and CSRF; until then both take ADMIN_TOKEN only.
    case "admin":
    case "operator":
      return (ctx) => {
        requireAdmin(ctx, options.adminToken);
        return ADMIN;
      };
  }
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
function routeMiddleware(name: ApiRouteName, handler: (input: Record<string, unknown>) => unknown, auth: ContractRouterAuth): RouterMiddleware {
  const route: ApiRouteSpec = API_ROUTES[name];
  const caller = callerCheck(route.auth, auth);
  const { params, query, body, idempotencyKey } = route;
  // The checks run in this order (auth, params, Idempotency-Key, body or query): it decides which error a bad request gets.
  return async function contractRoute(ctx): Promise<void> {
    const input: Record<string, unknown> = { caller: caller(ctx) };
    if (params !== null) input.params = parseInput(params, { ...ctx.params }, "params");
    if (idempotencyKey !== "none") input.idempotencyKey = readIdempotencyKey(ctx, idempotencyKey);
    if (query !== null) input.query = parseInput(query, { ...ctx.query }, "query");
    // A GET's body is never read; a POST without a body schema takes an empty body or `{}` only.
    if (route.method !== "GET") {
      if (body === NoBodySchema) await readNoBody(ctx);
      else input.body = parseInput(body, await readJsonBody(ctx), "body");
    }
    const answer = await handler(input);
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
  };
}

/**
 * The JSON API registered from API_ROUTES, in the table's order: each route's method and path, its
 * auth, params, Idempotency-Key rule, body or query and success status come from the contract; the
 * handlers only turn parsed input into the route's answer. Paths outside the table are not served.
 */
export function createContractRouter(handlers: ApiHandlers, auth: ContractRouterAuth): Router {
  const router = new Router();
  for (const name of Object.keys(API_ROUTES) as ApiRouteName[]) {
    const handler: unknown = handlers[name];
    if (typeof handler !== "function") throw new Error(`createContractRouter: no handler for ${name}.`);
    const route = API_ROUTES[name];
    // RouteInput<N> is built field by field from the same table entry, which the type cannot follow.
    router.register(route.path, [route.method], routeMiddleware(name, handler as (input: Record<string, unknown>) => unknown, auth));
  }
  return router;
}
