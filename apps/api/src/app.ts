import { CONTRACT_VERSION, CONTRACT_VERSION_HEADER } from "@pay/core/contract";
import Koa, { type Context, type Next } from "koa";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { systemClock, type Clock } from "./clock.js";
import type { Database } from "./db/schema.js";
import type { AppConfig } from "./env.js";
import type { WxLoginClient } from "./gateway/login-client.js";
import type { PaymentGateway } from "./gateway/port.js";
import { createGatewayRegistry, type Protocol } from "./gateway/registry.js";
import { ApiError } from "./errors.js";
import { createClientIp } from "./middleware/client-ip.js";
import { checkContractVersion } from "./middleware/contract-version.js";
import { createErrorHandler } from "./middleware/error-handler.js";
import { createInFlightCap } from "./middleware/in-flight.js";
import { createEdgeShed } from "./middleware/edge-shed.js";
import { createRequestLog } from "./middleware/request-log.js";
import { createApiRouter } from "./routes/api.js";
import { contractRoutes } from "./routes/contract-router.js";
import { CONSOLE_PATH, createConsoleMiddleware, loadConsoleFiles } from "./routes/console.js";
import { createHealthRouter, type Readiness } from "./routes/health.js";
import { createWxPayRouter } from "./routes/wxpay.js";
import type { ServiceContext } from "./services/context.js";
import { createOrderLoader } from "./db/order-reads.js";
import { createPaidWriter } from "./db/paid-writer.js";
import { createEventBus, type EventHandler } from "./services/events.js";
import { DEFAULT_RECONCILIATION_WAIT_MS } from "./services/reconciliation/admin.js";
import { createSessionTokens } from "./services/session-tokens.js";
import { instrumentGateway } from "./metrics/gateway.js";
import { createGatewayGuard } from "./gateway/guard.js";
import { createMetrics } from "./metrics/registry.js";
import { createActivityRecorder } from "./services/activity.js";

/** Everything the app needs from outside; tests pass the sandbox-backed gateway and a moved clock. */
export interface AppDeps {
  readonly config: AppConfig;
  readonly db: Kysely<Database>;
  /** PostgreSQL: a pool of its own for the notify path's order read and group commit (server.ts); default `db`. */
  readonly notifyDb?: Kysely<Database> | undefined;
  readonly dialect: "sqlite" | "postgres";
  /** The APIv2 gateway (for v2 orders, and new orders when apiVersion is v2). */
  readonly gateway?: PaymentGateway | undefined;
  /** The APIv3 gateway (for v3 orders, and new orders when apiVersion is v3). */
  readonly v3Gateway?: PaymentGateway | undefined;
  /** The protocol new orders are placed with; default v2. Its gateway must be given. */
  readonly apiVersion?: Protocol | undefined;
  readonly login: WxLoginClient;
  readonly logger: Logger;
  readonly clock?: Clock;
  /**
   * Called in process with each order event after its change has committed, in order (teams that embed
   * the API). A handler's failure is logged and never affects the payment; for delivery that survives a
   * crash use webhooks (docs/webhooks.md).
   */
  readonly eventHandlers?: readonly EventHandler[] | undefined;
  /** How long one handler call may take before the next event goes ahead without it (default 10 s). */
  readonly eventHandlerTimeoutMs?: number | undefined;
  /** How long `POST /api/admin/reconciliations/:date/run` waits for its run before answering 202 (default 10 s; tests force the 202). */
  readonly reconciliationWaitMs?: number | undefined;
  /** The process's lifecycle: /readyz answers 503 while it drains (issue 21, src/shutdown.ts). */
  readonly readiness?: Readiness | undefined;
  /**
   * What the app serves: `all` (the default) every route; `notify` only the notify routes (/wxpay/...), /healthz and
   * /readyz, as the notify worker of NOTIFY_PORT does (every other path 404, before any of the public API's work).
   */
  readonly surface?: AppSurface | undefined;
}

/** The routes an app serves: every one, or the notify listener's (NOTIFY_PORT, docs/workers.md). */
export type AppSurface = "all" | "notify";

/** Every path the notify router could match (its routes are all under /wxpay/; @koa/router matches case-insensitively). */
const WXPAY_PATH = /^\/wxpay\//i;
/** Every path the contract router could match (/api and below, any case): the paths the in-flight cap counts. */
const API_PATH = /^\/api(?:\/|$)/i;
/** Every path the health router could match (/healthz, /readyz, with or without a trailing slash, any case). */
const HEALTH_PATH = /^\/(?:healthz|readyz)/i;

/** A middleware as the path gates call it. */
type Gate = (ctx: Context, next: Next) => Promise<void>;

/**
 * The notify listener's app (NOTIFY_PORT): the request log, the notify routes and the health routes, nothing
 * else. No edge shed, rate limit, in-flight cap or contract router: none applies to a notify, and a path that is
 * not one of these gets Koa's plain 404 without touching the database.
 */
function mountNotifySurface(app: Koa, services: ServiceContext, deps: AppDeps): void {
  app.use(createRequestLog(deps.logger, { headers: { [CONTRACT_VERSION_HEADER]: CONTRACT_VERSION } }));
  const wxpay = createWxPayRouter(services).routes() as unknown as Gate;
  const health = createHealthRouter(services, deps.readiness).routes() as unknown as Gate;
  app.use((ctx, next): Promise<void> => {
    const path = ctx.path;
    if (WXPAY_PATH.test(path)) return wxpay(ctx, next);
    if (HEALTH_PATH.test(path)) return health(ctx, next);
    return next();
  });
}

/** Builds the Koa app (not listening): the kitchen-sink split, so tests call it in process. */
export function createApp(deps: AppDeps): { app: Koa; services: ServiceContext } {
  const clock = deps.clock ?? systemClock;
  const metrics = createMetrics({ db: deps.db, clock });
  // Issue 21: one bulkhead for the process and a breaker per protocol in front of WeChat Pay (gateway/guard.ts).
  const guardConfig = deps.config.gatewayGuard;
  const guard = createGatewayGuard({
    maxConcurrentCalls: guardConfig.maxConcurrentCalls,
    maxQueuedCalls: guardConfig.maxQueuedCalls,
    maxQueueWaitMs: guardConfig.maxQueueWaitMs,
    breaker:
      guardConfig.breaker === undefined
        ? undefined
        : { failures: guardConfig.breaker.failures, openMs: guardConfig.breaker.openSeconds * 1000, maxOpenMs: guardConfig.breaker.maxOpenSeconds * 1000 },
    clock,
    onShed: (protocol, reason) => metrics.gatewayShed(protocol, reason),
  });
  // Every call to WeChat Pay is timed (metrics/gateway.ts), inside the guard: a shed call is never sent, so never timed.
  const instrumented = (gateway: PaymentGateway | undefined, protocol: Protocol): PaymentGateway | undefined =>
    gateway === undefined ? undefined : guard.guard(instrumentGateway(gateway, protocol, metrics), protocol);
  const gateways = createGatewayRegistry({
    v2: instrumented(deps.gateway, "v2"),
    v3: instrumented(deps.v3Gateway, "v3"),
    protocolForNewOrders: deps.apiVersion,
    refusal: (protocol) => guard.refusal(protocol),
  });
  metrics.watchGatewayGuard({
    protocols: gateways.configured,
    breakerState: (protocol) => guard.breakerState(protocol),
    get inFlight() {
      return guard.inFlight;
    },
  });
  const services: ServiceContext = {
    config: deps.config,
    db: deps.db,
    dialect: deps.dialect,
    gateways,
    login: deps.login,
    tokens: createSessionTokens(deps.config.sessionSecret, deps.config.sessionTtlSeconds),
    clock,
    logger: deps.logger,
    // SQLite's paid writer needs the one connection's handle: only PostgreSQL's takes the notify pool.
    paidWriter: createPaidWriter(deps.dialect === "postgres" ? (deps.notifyDb ?? deps.db) : deps.db, deps.dialect),
    loadOrder: createOrderLoader(deps.db, deps.dialect),
    ...(deps.notifyDb === undefined || deps.dialect !== "postgres" ? {} : { notifyLoadOrder: createOrderLoader(deps.notifyDb, deps.dialect) }),
    events: createEventBus(deps.eventHandlers ?? [], deps.logger, { handlerTimeoutMs: deps.eventHandlerTimeoutMs }),
    activity: createActivityRecorder({ db: deps.db, clock, logger: deps.logger, onDropped: (count) => metrics.activityDropped(count) }),
    metrics,
  };
  const app = new Koa();
  app.proxy = false;
  // The error middleware answers every failure; Koa's own logging would only repeat it.
  app.silent = true;
  if (deps.surface === "notify") {
    mountNotifySurface(app, services, deps);
    return { app, services };
  }
  // Issue 21: a create-order the gateway guard would refuse is refused first, at the cost of a fixed answer (middleware/edge-shed.ts).
  app.use(createEdgeShed({ gateways: services.gateways, logger: deps.logger, clock }));
  // Issue 21: behind TRUST_PROXY_HOPS proxies of ours, ctx.ip is the client's address from X-Forwarded-For (never app.proxy: see client-ip.ts).
  if (deps.config.rateLimits.trustProxyHops > 0) app.use(createClientIp(deps.config.rateLimits.trustProxyHops));
  // Every response, the notify routes' included, names the contract version (set by the request log's middleware).
  app.use(createRequestLog(deps.logger, { headers: { [CONTRACT_VERSION_HEADER]: CONTRACT_VERSION } }));
  // The notify routes answer XML themselves and never reach the JSON error middleware. Each router below
  // runs only for the paths it could match (its match costs every other request a host lookup, a scan of
  // its routes and a promise): the gates are supersets of its paths, case-insensitive like the router.
  const wxpay = createWxPayRouter(services).routes() as unknown as Gate;
  app.use((ctx, next): Promise<void> => (WXPAY_PATH.test(ctx.path) ? wxpay(ctx, next) : next()));
  // The contract version check runs inside the error middleware, so a refused version is answered like any error.
  app.use(createErrorHandler(deps.logger, { check: checkContractVersion }));
  const health = createHealthRouter(services, deps.readiness).routes() as unknown as Gate;
  const consoleFiles = createConsoleMiddleware(loadConsoleFiles(deps.config.consoleDir)) as Gate;
  app.use((ctx, next): Promise<void> => {
    const path = ctx.path;
    if (HEALTH_PATH.test(path)) return health(ctx, next);
    if (path.startsWith(CONSOLE_PATH)) return consoleFiles(ctx, next);
    return next();
  });
  // Issue 21: at most API_MAX_IN_FLIGHT /api requests at once, the rest 503 OVERLOADED before their body is read.
  // Notifies, /healthz, /readyz and the console's files are answered above and never reach it.
  const inFlightCap = createInFlightCap({ max: deps.config.apiMaxInFlight, observer: { inFlight: (count) => metrics.apiInFlight(count), shed: () => metrics.apiShed() } });
  app.use((ctx, next): Promise<void> => (API_PATH.test(ctx.path) ? inFlightCap(ctx, next) : next()));
  const api = createApiRouter(services, { reconciliationWaitMs: deps.reconciliationWaitMs ?? DEFAULT_RECONCILIATION_WAIT_MS });
  // The contract routes straight from their table (the router's scan only for what matches none).
  app.use(contractRoutes(api));
  app.use(
    api.allowedMethods({
      throw: true,
      methodNotAllowed: () => new ApiError("METHOD_NOT_ALLOWED", "This path does not take that method."),
      notImplemented: () => new ApiError("METHOD_NOT_ALLOWED", "This method is not supported."),
    }),
  );
  return { app, services };
}
