import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type Koa from "koa";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { createApp } from "./app.js";
import { systemClock } from "./clock.js";
import { runCluster } from "./cluster.js";
import type { Readiness } from "./routes/health.js";
import { createInFlightTracker, createLifecycle, createShutdownController, systemTimers, type InFlightRequest, type Lifecycle, type ShutdownController } from "./shutdown.js";
import { openDatabase } from "./db/database.js";
import { migrateToLatest, seedProducts } from "./db/migrate.js";
import { DEFAULT_PRODUCTS, hasProducts } from "./db/products.js";
import type { Database } from "./db/schema.js";
import { upsertEnvEndpoint } from "./db/webhook-endpoints.js";
import { ConfigError, loadConfig, type AppConfig, type WorkerRole } from "./env.js";
import { connectionsCheckingIntervalMs, DEFAULT_HTTP_LIMITS, type HttpLimits } from "./http/limits.js";
import type { ClientCertificate } from "./gateway/v2/client.js";
import { createV2Gateway, type V2Gateway } from "./gateway/v2/gateway.js";
import { v3GatewayOptions } from "./gateway/v3/from-config.js";
import { createV3Gateway, type V3Gateway } from "./gateway/v3/gateway.js";
import { createLoginClient } from "./gateway/login-client.js";
import { createLogger } from "./logging.js";
import type { EventHandler } from "./services/events.js";
import { runOptionsOf } from "./services/reconciliation/admin.js";
import { reconcileDay, reconciliationsEnded } from "./services/reconciliation/engine.js";
import { startReconciliationScheduler } from "./services/reconciliation/scheduler.js";
import { startSweeper } from "./services/sweeper.js";
import { createWebhookDispatcher } from "./services/webhooks/dispatcher.js";
import { loadV3Credentials, type V3Credentials } from "./v3-credentials.js";
import type { ApiMetrics } from "./metrics/registry.js";
import { startMetricsServer, type RunningMetricsServer } from "./metrics/server.js";

/**
 * An HTTP server for the app with bounded request times and sizes (HTTP_*, http/limits.ts), so a slow or
 * huge client cannot hold a socket for long: headers and the whole request have deadlines (408), headers a
 * size cap (431), an idle keep-alive or silent socket is closed, and a keep-alive connection serves a
 * bounded number of requests. JSON bodies have their own deadline (http/body.ts), notifies theirs.
 */
export function createHttpServer(app: Koa, limits: HttpLimits = DEFAULT_HTTP_LIMITS): Server {
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) throw new ConfigError("HTTP_HEADERS_TIMEOUT_MS must be at most HTTP_REQUEST_TIMEOUT_MS");
  const handle = app.callback();
  // Node sends `Connection: close` on a socket's last allowed request but leaves the socket open (the client
  // is trusted to close it); setting the header ourselves makes Node end the socket after that answer.
  const served = new WeakMap<Socket, number>();
  const { maxRequestsPerSocket } = limits;
  const server = createServer(
    {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      // Node looks for requests past their deadlines every 30 s by default: too late for a 10 s headers timeout.
      connectionsCheckingInterval: connectionsCheckingIntervalMs(limits),
    },
    (req, res) => {
      const count = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, count);
      if (count >= maxRequestsPerSocket) res.setHeader("Connection", "close");
      void handle(req, res);
    },
  );
  // Requests pipelined past the cap get Node's 503 without reaching the app.
  server.maxRequestsPerSocket = maxRequestsPerSocket;
  // No 'timeout' listener: Node destroys a socket silent this long (a client that stopped reading its answer).
  server.timeout = limits.socketIdleTimeoutMs;
  return server;
}

function clientCertificate(config: AppConfig): ClientCertificate | undefined {
  const cert = config.gateway.clientCert;
  if (cert === undefined) return undefined;
  try {
    return cert.kind === "pem"
      ? { certPem: readFileSync(cert.certPath, "utf8"), keyPem: readFileSync(cert.keyPath, "utf8") }
      : { pfx: readFileSync(cert.pfxPath), passphrase: cert.passphrase };
  } catch (error) {
    throw new ConfigError(
      `The refund client certificate cannot be read (${cert.kind === "pem" ? "WXPAY_CERT_PATH / WXPAY_CERT_KEY_PATH" : "WXPAY_PFX_PATH"}): ${(error as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
}

/** The WeChat Pay gateways a process talks through, as startApi and the reconcile CLI build them. */
export interface OpenedGateways {
  /** The APIv2 gateway, when WXPAY_KEY is set. */
  readonly gateway: V2Gateway | undefined;
  /** The APIv3 gateway, when APIv3 is configured (started: its certificates are downloaded). */
  readonly v3Gateway: V3Gateway | undefined;
  close(): Promise<void>;
}

/**
 * Builds the configured gateways: v2 orders (new ones, or old ones still settling) go through v2, v3
 * ones through v3. The v3 gateway is started (platform certificates downloaded); a failure closes both.
 */
export async function openGateways(config: AppConfig, v3: V3Credentials | undefined, logger: Logger, ca: string | undefined): Promise<OpenedGateways> {
  const gateway =
    config.v2 === undefined
      ? undefined
      : createV2Gateway({
          merchant: { ...config.merchant, key: config.v2.key },
          baseUrl: config.gateway.baseUrl,
          failoverBaseUrl: config.gateway.failoverBaseUrl,
          clientCertificate: clientCertificate(config),
          ca,
          logger,
        });
  const v3Gateway = v3 === undefined ? undefined : createV3Gateway(v3GatewayOptions(config, v3, { ca, logger }));
  const close = async (): Promise<void> => {
    await gateway?.close();
    await v3Gateway?.close();
  };
  try {
    // Platform certificates are downloaded before the first request (certificate and migration modes).
    await v3Gateway?.start();
  } catch (error) {
    await close();
    throw error;
  }
  return { gateway, v3Gateway, close };
}

/** A running API process. */
export interface RunningApi {
  readonly url: string;
  readonly server: Server;
  /** The URL of GET /metrics on METRICS_HOST:METRICS_PORT, when METRICS_PORT is set (and this process serves it). */
  readonly metricsUrl: string | undefined;
  /** This process's metrics (a cluster worker's registry is what the primary adds up). */
  readonly metrics: ApiMetrics;
  /** Its way down: drain() is what SIGTERM/SIGINT start (readiness first, after SHUTDOWN_READINESS_DELAY_MS the steps of stop()). */
  readonly lifecycle: Lifecycle;
  /** The requests being answered now (a forced exit logs them). */
  inFlight(): InFlightRequest[];
  /** Stops at once (no readiness delay): the listener closes, requests in flight finish, then everything is drained and the database closed. */
  stop(): Promise<void>;
}

/** What a process embedding the API adds to the configuration. */
export interface StartApiOptions {
  /** In-process order event handlers, called after each change commits (see AppDeps.eventHandlers and docs/webhooks.md). */
  readonly eventHandlers?: readonly EventHandler[] | undefined;
  /**
   * A worker of API_WORKERS (src/cluster.ts): the primary has prepared the database (prepareDatabase) and
   * serves /metrics for every worker, so this process does neither and logs "worker listening".
   */
  readonly clusterWorker?: boolean | undefined;
  /**
   * `notify`: the notify worker of NOTIFY_PORT (src/cluster.ts): it listens on NOTIFY_HOST:NOTIFY_PORT and serves only
   * the notify and health routes; it runs the webhook dispatcher (woken by its own commits) but not the sweep or the
   * reconciliation scheduler, which the API workers run. Default `api`: PORT and everything.
   */
  readonly role?: WorkerRole | undefined;
}

/** The once-per-start work on the database: migrations, the WEBHOOK_URL endpoint, the product seed (the primary's, with API_WORKERS). */
export async function prepareDatabase(db: Kysely<Database>, config: AppConfig, logger: Logger): Promise<void> {
  const applied = await migrateToLatest(db);
  if (applied.length > 0) logger.info({ migrations: applied }, "database migrated");
  if (config.webhooks.endpoint !== undefined) {
    // The secret stays out of the log line: only where events go.
    const endpoint = await upsertEnvEndpoint(db, config.webhooks.endpoint, systemClock());
    logger.info({ endpointId: endpoint.id, url: endpoint.url, enabled: endpoint.enabled === 1 }, "webhook endpoint from WEBHOOK_URL");
  }
  if (!(await hasProducts(db)))
    await seedProducts(
      db,
      DEFAULT_PRODUCTS.map((p) => ({ ...p, currency: config.merchant.feeType })),
    );
}

/**
 * Connections the kernel may queue before the process accepts them (it caps this at net.core.somaxconn). Node's 511
 * overflowed when a flood opened a thousand connections at once: the kernel dropped the SYNs of the notifies'
 * new connections too, and their retransmits (1 s, then 3 s) made the slowest notifies of the overload run.
 */
export const LISTEN_BACKLOG = 4096;

/** Connections of the notify path's own PostgreSQL pool (beside the main pool of 10). */
export const NOTIFY_POOL_CONNECTIONS = 3;

/** Starts the API from a validated configuration: database, migrations, gateway, HTTP, background sweep. */
export async function startApi(config: AppConfig, logger: Logger, options: StartApiOptions = {}): Promise<RunningApi> {
  const notifyRole = options.role === "notify";
  const listener = notifyRole ? config.notifyListener : { port: config.port, host: config.host };
  if (listener === undefined) throw new ConfigError("A notify worker needs NOTIFY_PORT");
  // The notify worker is forked by main() (src/cluster.ts); a process that embeds startApi serves PORT only.
  if (!notifyRole && options.clusterWorker !== true && config.notifyListener !== undefined)
    logger.warn({ notifyPort: config.notifyListener.port }, "NOTIFY_PORT is set but this process was started with startApi, not main(): notifies are served on PORT only");
  // Bad APIv3 key files stop the start before anything is opened.
  const v3 = config.v3 === undefined ? undefined : loadV3Credentials(config.v3);
  const database = await openDatabase(config.databaseUrl);
  // PostgreSQL: the notify path (its order read and the group commit) has a small pool of its own, so a notify never
  // waits for a connection behind the public API's statements (issue 21: notifies first). SQLite has one connection;
  // its paid writer runs at once on it when no transaction is open (db/paid-writer.ts).
  let notifyDatabase: Awaited<ReturnType<typeof openDatabase>> | undefined;
  if (database.dialect === "postgres") {
    try {
      notifyDatabase = await openDatabase(config.databaseUrl, { maxConnections: NOTIFY_POOL_CONNECTIONS });
    } catch (error) {
      await database.close();
      throw error;
    }
  }
  const closeDatabases = async (): Promise<void> => {
    await notifyDatabase?.close();
    await database.close();
  };
  if (options.clusterWorker !== true) {
    try {
      await prepareDatabase(database.db, config, logger);
    } catch (error) {
      await closeDatabases();
      throw error;
    }
  }

  const ca = config.gateway.caPath === undefined ? undefined : readFileSync(config.gateway.caPath, "utf8");
  let gateways: OpenedGateways;
  try {
    gateways = await openGateways(config, v3, logger, ca);
  } catch (error) {
    await closeDatabases();
    throw error;
  }
  const { gateway, v3Gateway } = gateways;
  const closeGateways = (): Promise<void> => gateways.close();
  // The same extra CA serves a login endpoint on the sandbox over HTTPS; the real host needs none.
  const login = createLoginClient({ baseUrl: config.wx.apiBaseUrl, appId: config.merchant.subAppId ?? config.merchant.appId, appSecret: config.wx.appSecret, ca, logger });
  // /readyz reads the lifecycle built below, once everything it stops exists.
  const built: { lifecycle?: Lifecycle } = {};
  const readiness: Readiness = {
    get draining() {
      return built.lifecycle?.draining === true;
    },
  };
  const { app, services } = createApp({
    config,
    db: database.db,
    dialect: database.dialect,
    gateway,
    v3Gateway,
    apiVersion: config.apiVersion,
    login,
    logger,
    eventHandlers: options.eventHandlers,
    notifyDb: notifyDatabase?.db,
    readiness,
    surface: notifyRole ? "notify" : "all",
  });
  const server = createHttpServer(app, config.http);
  const inFlight = createInFlightTracker(systemClock);
  server.on("request", (req: IncomingMessage, res: ServerResponse) => inFlight.track(req, res));
  let metricsServer: RunningMetricsServer | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port: listener.port, host: listener.host, backlog: LISTEN_BACKLOG }, () => resolve());
    });
    // /metrics is served only here, never on the public port.
    if (config.metrics !== undefined && options.clusterWorker !== true) metricsServer = await startMetricsServer(services.metrics, { ...config.metrics, logger });
  } catch (error) {
    // Nothing else holds these yet: release them so a failed start leaves no open database.
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    await services.activity.close();
    await closeGateways();
    await login.close();
    await closeDatabases();
    throw error;
  }
  // The notify worker leaves the sweep and the scheduler (gateway calls, wide reads) to the API workers.
  const sweeper = notifyRole ? undefined : startSweeper(services);
  const scheduler =
    !notifyRole && config.reconciliation.schedule
      ? startReconciliationScheduler({
          db: services.db,
          clock: services.clock,
          logger: services.logger,
          settings: config.reconciliation,
          // Only while still due: another process's scheduler (API_WORKERS) may have run the day since this one looked.
          run: (date) => reconcileDay(services, date, "schedule", { ...runOptionsOf(config.reconciliation), onlyIfDue: true }),
        })
      : undefined;
  const dispatcher = config.webhooks.delivery ? createWebhookDispatcher(services) : undefined;
  dispatcher?.start();
  const { port } = server.address() as AddressInfo;
  const url = `http://${listener.host.includes(":") ? `[${listener.host}]` : listener.host}:${port}`;
  logger.info(
    {
      url,
      database: database.dialect,
      gateway: config.gateway.baseUrl,
      mode: config.merchant.subMchId === undefined ? "direct" : "institutional",
      apiVersion: config.apiVersion,
      ...(v3 === undefined ? {} : { v3: { account: v3.account, keyMode: v3.mode, merchantSerial: v3.merchantSerial, publicKeyId: v3.publicKey?.id } }),
      ...(metricsServer === undefined ? {} : { metrics: metricsServer.url }),
    },
    notifyRole ? "notify worker listening" : options.clusterWorker === true ? "worker listening" : "API listening",
  );
  const stopHttp = async (): Promise<void> => {
    // No new connections; requests in flight finish and are answered with Connection: close. A keep-alive connection is closed as soon as it is idle.
    inFlight.closing();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    await closed;
    clearInterval(idle);
    server.closeAllConnections();
  };
  const running = metricsServer;
  const lifecycle = createLifecycle({
    readinessDelayMs: config.shutdown.readinessDelayMs,
    timers: systemTimers,
    logger,
    steps: [
      { name: "requests in flight", run: stopHttp },
      { name: "metrics server", run: async () => running?.stop() },
      { name: "sweep", run: async () => sweeper?.stop() },
      // A scheduled run in flight finishes (and releases its day) before the database closes, and so does one an admin started.
      { name: "reconciliation scheduler", run: async () => scheduler?.stop() },
      { name: "reconciliation runs", run: () => reconciliationsEnded(services) },
      // Attempts in flight are recorded before the database closes (an unrecorded one is sent again after its lease).
      { name: "webhook deliveries", run: async () => dispatcher?.stop() },
      // Transitions of requests still in flight are committed before the database closes.
      { name: "group commit", run: () => services.paidWriter.drain() },
      // The timeline rows of everything above are written before the database closes.
      { name: "activity buffer", run: () => services.activity.close() },
      { name: "gateways", run: closeGateways },
      { name: "login client", run: () => login.close() },
      { name: "database", run: closeDatabases },
    ],
  });
  built.lifecycle = lifecycle;
  return {
    url,
    server,
    metricsUrl: metricsServer?.url,
    metrics: services.metrics,
    lifecycle,
    inFlight: () => inFlight.list(),
    stop: () => lifecycle.stop(),
  };
}

/** The shutdown controller of a serving process (alone, or an API_WORKERS worker): its drain, its deadline, process.exit. */
export function processShutdown(api: RunningApi, config: AppConfig, logger: Logger): ShutdownController {
  return createShutdownController({
    lifecycle: api.lifecycle,
    timeoutMs: config.shutdown.timeoutMs,
    timers: systemTimers,
    logger,
    inFlight: () => api.inFlight(),
    exit: (code) => process.exit(code),
  });
}

/** The process entry point (the process environment unless `env` is given): configuration errors name the variable and exit 1; SIGINT/SIGTERM drain (readiness first) and exit 0, a second signal or SHUTDOWN_TIMEOUT_SECONDS forces exit 1. */
export async function main(env?: Readonly<Record<string, string | undefined>>): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig(env);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel, name: "pay-api" });
  // API_WORKERS > 1 or NOTIFY_PORT: a primary and its workers (src/cluster.ts); else this process serves alone, as always.
  if (config.workers > 1 || config.notifyListener !== undefined) {
    await runCluster(config, logger, env);
    return;
  }
  let api: RunningApi;
  try {
    api = await startApi(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, "the API could not start");
    process.exit(1);
  }
  // The first SIGTERM/SIGINT drains (readiness first); a second one, or SHUTDOWN_TIMEOUT_SECONDS, forces the exit (src/shutdown.ts).
  const controller = processShutdown(api, config, logger);
  process.on("SIGINT", (signal) => controller.signal(signal));
  process.on("SIGTERM", (signal) => controller.signal(signal));
}
