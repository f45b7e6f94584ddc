import type Router from "@koa/router";
import type { ServiceContext } from "../services/context.js";
import { exportAdminOrders } from "../services/console/export.js";
import { getAdminOrder, listAdminOrders } from "../services/console/orders.js";
import { getOverview } from "../services/console/overview.js";
import { closeOwnOrder, createOrder, getOrder, listOrders, renewPayment } from "../services/orders.js";
import { listProducts } from "../services/products.js";
import { createRefund } from "../services/refunds.js";
import { DEFAULT_RECONCILIATION_WAIT_MS, getReconciliation, listReconciliations, runReconciliationNow } from "../services/reconciliation/admin.js";
import { addressSubject, createRateLimiter, type RateLimitName } from "../services/rate-limits.js";
import { signIn } from "../services/sessions.js";
import { listAuditLog, recordAudit } from "../services/staff/audit.js";
import { authenticateStaff, rotateStaffCsrf, signInStaff, signOutStaff, type StaffSessionDeps } from "../services/staff/sessions.js";
import { ApiError } from "../errors.js";
import {
  createEndpoint,
  getEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  replayFailedDeliveries,
  replayWebhookEvent,
  rotateWebhookSecret,
  updateWebhookEndpoint,
} from "../services/webhooks/endpoints.js";
import { accepted, createContractRouter, type ApiHandlers, type RateLimitSubject, type RouteRateLimits, type StaffGate } from "./contract-router.js";
import { unwrap } from "./outcomes.js";

/**
 * What each contract route does, given its parsed input: a service call whose outcome `unwrap` turns
 * into the answer or an ApiError. Auth, parsing and statuses are the contract router's.
 */
export function createApiHandlers(services: ServiceContext, options: ApiRouterOptions = { reconciliationWaitMs: DEFAULT_RECONCILIATION_WAIT_MS }): ApiHandlers {
  return {
    createSession: async ({ body }) => unwrap(await signIn(services, body.code)),
    listProducts: () => listProducts(services),
    createOrder: async ({ caller, body, idempotencyKey }) => unwrap(await createOrder(services, caller.userId, body, idempotencyKey)),
    listOrders: async ({ caller, query }) => unwrap(await listOrders(services, caller.userId, query)),
    getOrder: async ({ caller, params }) => ({ order: unwrap(await getOrder(services, caller.userId, params.id)) }),
    renewPayment: async ({ caller, params }) => unwrap(await renewPayment(services, caller.userId, params.id)),
    closeOrder: async ({ caller, params }) => ({ order: unwrap(await closeOwnOrder(services, caller.userId, params.id)) }),
    createRefund: async ({ params, body, idempotencyKey }) => unwrap(await createRefund(services, params.id, body, idempotencyKey)),
    createWebhookEndpoint: async ({ body }) => unwrap(await createEndpoint(services, body)),
    listWebhookEndpoints: async () => ({ endpoints: await listWebhookEndpoints(services) }),
    getWebhookEndpoint: async ({ params }) => unwrap(await getEndpoint(services, params.id)),
    updateWebhookEndpoint: async ({ params, body }) => ({ endpoint: unwrap(await updateWebhookEndpoint(services, params.id, body)) }),
    rotateWebhookSecret: async ({ params, body }) => unwrap(await rotateWebhookSecret(services, params.id, body.previousSecretExpiresInSeconds)),
    listWebhookDeliveries: async ({ params, query }) => unwrap(await listWebhookDeliveries(services, params.id, query)),
    replayWebhookEvent: async ({ params, body }) => unwrap(await replayWebhookEvent(services, params.id, body.endpointId)),
    replayFailedWebhookDeliveries: async ({ body }) => unwrap(await replayFailedDeliveries(services, body)),
    listReconciliations: async ({ query }) => unwrap(await listReconciliations(services, query)),
    getReconciliation: async ({ params, query }) => unwrap(await getReconciliation(services, params.date, query)),
    runReconciliation: async ({ params }) => {
      const answer = unwrap(await runReconciliationNow(services, params.date, options.reconciliationWaitMs));
      return answer.accepted ? accepted(answer.detail) : answer.detail;
    },
    staffSignIn: async ({ body, session }) => {
      const result = await signInStaff(staffDeps(services), { username: body.username, password: body.password, ip: session.ip, userAgent: session.userAgent });
      if (!result.ok) {
        if (result.reason === "throttled") {
          throw new ApiError("RATE_LIMITED", `Too many failed sign-ins; try again in ${result.retryAfterSeconds} s.`, { retryAfterSeconds: result.retryAfterSeconds });
        }
        throw new ApiError("SIGN_IN_FAILED", "The username or password is wrong, or the account is disabled.");
      }
      session.setCookie(result.session.token, result.session.maxAgeSeconds);
      return { actor: result.session.actor, csrfToken: result.session.csrfToken, expiresAt: result.session.expiresAt };
    },
    getStaffSession: async ({ caller, session }) => {
      const current = session.current;
      if (current === undefined) return { actor: caller.actor, csrfToken: null, expiresAt: null };
      // Only the CSRF token's hash is stored: after a reload the console gets a new one, and the old one stops working.
      const csrfToken = await rotateStaffCsrf(staffDeps(services), current.id);
      if (csrfToken === undefined) throw new ApiError("UNAUTHORIZED", "The console session was ended; sign in again.");
      return { actor: current.actor, csrfToken, expiresAt: current.expiresAt };
    },
    staffSignOut: async ({ session }) => {
      if (session.current !== undefined) await signOutStaff(staffDeps(services), session.current.id);
      session.clearCookie();
      return { signedOut: true as const };
    },

    getOverview: ({ query }) => getOverview(services, query),
    listAdminOrders: async ({ query }) => unwrap(await listAdminOrders(services, query)),
    exportAdminOrders: async ({ query }) => unwrap(await exportAdminOrders(services, query)),
    getAdminOrder: async ({ params }) => unwrap(await getAdminOrder(services, params.id)),

    listAuditLog: async ({ query }) => unwrap(await listAuditLog(services.db, query)),
  };
}

/** How the API routes behave beyond the contract. */
export interface ApiRouterOptions {
  /** How long `POST /api/admin/reconciliations/:date/run` waits for the run before answering 202 (default 10 s). */
  readonly reconciliationWaitMs: number;
}

function staffDeps(services: ServiceContext): StaffSessionDeps {
  return { db: services.db, clock: services.clock, config: services.config.staff };
}

/** The console's side of the router's auth: session cookies checked against the database, Secure cookies in production, the audit log. */
export function createStaffGate(services: ServiceContext): StaffGate {
  const deps = staffDeps(services);
  return {
    authenticate: (token) => authenticateStaff(deps, token),
    secureCookie: services.config.nodeEnv === "production",
    audit: (record) => recordAudit(services.db, services.logger, record),
  };
}

/** What each limit's refusal says to the payer (the mini-program shows it with the wait). */
const RATE_LIMIT_MESSAGES: Readonly<Record<RateLimitName, string>> = {
  orders: "Too many orders placed",
  renewals: "Too many payment attempts",
  "sign-ins": "Too many sign-ins from this address",
};

/**
 * Issue 21: the public routes' rate limits (docs/api.md "Rate limits"): per user on placing an order (an
 * Idempotency-Key replay included: it may call WeChat Pay again, as a renewal does) and on renewing payment, per
 * client address on the mini-program's sign-in. A refusal is 429 RATE_LIMITED with retryAfterSeconds (and Retry-After).
 */
export function createRouteRateLimits(services: ServiceContext): RouteRateLimits {
  const limiter = createRateLimiter({ db: services.db, clock: services.clock, logger: services.logger, limits: services.config.rateLimits });
  async function enforce(route: "createSession" | "createOrder" | "renewPayment", name: RateLimitName, subject: string): Promise<void> {
    const decision = await limiter.check(name, subject);
    if (decision.allowed) return;
    services.metrics.rateLimited(route);
    const { retryAfterSeconds } = decision;
    throw new ApiError("RATE_LIMITED", `${RATE_LIMIT_MESSAGES[name]}; try again in ${retryAfterSeconds} s.`, { retryAfterSeconds });
  }
  // The user routes' caller is always a user (auth "user" is checked first); a limit that is off is no check at all.
  const userOf = (caller: RateLimitSubject["caller"]): string => (caller.kind === "user" ? caller.userId : "");
  const limits = services.config.rateLimits;
  return {
    ...(limits.signIns === undefined ? {} : { createSession: ({ ip }: RateLimitSubject) => enforce("createSession", "sign-ins", addressSubject(ip)) }),
    ...(limits.orders === undefined ? {} : { createOrder: ({ caller }: RateLimitSubject) => enforce("createOrder", "orders", userOf(caller)) }),
    ...(limits.renewals === undefined ? {} : { renewPayment: ({ caller }: RateLimitSubject) => enforce("renewPayment", "renewals", userOf(caller)) }),
  };
}

/** The JSON API the mini-program and admins call, registered from the @pay/core contract's route table. */
export function createApiRouter(services: ServiceContext, options?: ApiRouterOptions): Router {
  return createContractRouter(
    createApiHandlers(services, options),
    {
      tokens: services.tokens,
      clock: services.clock,
      adminToken: services.config.adminToken,
      staff: createStaffGate(services),
      rateLimits: createRouteRateLimits(services),
    },
    { timeoutMs: services.config.http.jsonBodyTimeoutMs },
  );
}
