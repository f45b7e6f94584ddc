// API_WORKERS > 1 or NOTIFY_PORT: a primary process and N workers sharing one port through node:cluster, and with
// NOTIFY_PORT one notify worker serving the notify routes on that port alone (docs/workers.md).
// The primary does the once-per-start database work, forks the workers, replaces one that dies (with a
// backoff, and gives up on a crash loop), serves GET /metrics as one view of every worker, and drains them
// on SIGTERM/SIGINT. Each worker is a whole API (startApi): HTTP, paid writer, activity buffer, sweep,
// reconciliation scheduler and webhook dispatcher, all coordinated with the other workers through the database.
import cluster, { type Worker } from "node:cluster";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { AggregatorRegistry } from "prom-client";
import { openDatabase } from "./db/database.js";
import { WORKER_ROLE_VARIABLE, workerRoleOf, type AppConfig, type WorkerRole } from "./env.js";
import { childLogger } from "./logging.js";
import { startMetricsServer, type RunningMetricsServer } from "./metrics/server.js";
import { lowerOwnPriority } from "./priority.js";
import { prepareDatabase, processShutdown, startApi, type RunningApi } from "./server.js";
import type { ShutdownController } from "./shutdown.js";

/** The message the primary sends a worker to make it drain and exit (readiness first, as on SIGTERM). */
export const STOP_MESSAGE = "pay-api:stop";

/** The message the primary sends a worker on a second signal: log what is in flight and exit 1 at once. */
export const FORCE_MESSAGE = "pay-api:force";

/**
 * How long after its own deadline (SHUTDOWN_TIMEOUT_SECONDS, the workers' too) the primary kills the workers
 * still running: each worker's own deadline comes first, so it logs what it still had in flight.
 */
export const DRAIN_GRACE_MS = 2_000;

/** After a second signal, how long a worker has to log and exit before the primary kills it. */
export const FORCE_GRACE_MS = 1_000;

/** What the primary forks: API_WORKERS API workers and, with NOTIFY_PORT, one notify worker. */
export function workerRoles(config: Pick<AppConfig, "workers" | "notifyListener">): WorkerRole[] {
  return [...Array.from({ length: config.workers }, (): WorkerRole => "api"), ...(config.notifyListener === undefined ? [] : (["notify"] as const))];
}

/** When a dead worker is replaced, and when the primary gives up. */
export interface RestartPolicy {
  /** The wait before the first replacement in a row; doubled for each further quick death. */
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
  /** A worker that lived this long died of something other than a crash loop: the count starts again. */
  readonly stableMs: number;
  /** Quick deaths in a row after which the primary stops everything and exits 1 (its supervisor takes over). */
  readonly maxQuickDeaths: number;
}

export const RESTART_POLICY: RestartPolicy = { firstDelayMs: 500, maxDelayMs: 30_000, stableMs: 60_000, maxQuickDeaths: 8 };

/** What the primary does about a worker that died after living `livedMs`, after `quickDeaths` quick deaths in a row. */
export function restartDecision(
  quickDeaths: number,
  livedMs: number,
  policy: RestartPolicy = RESTART_POLICY,
): { readonly quickDeaths: number; readonly delayMs: number | undefined } {
  const count = livedMs >= policy.stableMs ? 1 : quickDeaths + 1;
  if (count > policy.maxQuickDeaths) return { quickDeaths: count, delayMs: undefined };
  return { quickDeaths: count, delayMs: Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (count - 1)) };
}

/** Runs this process's part: the primary, or a worker forked by it. Never resolves in the primary until it exits. */
export async function runCluster(config: AppConfig, logger: Logger, env: Readonly<Record<string, string | undefined>> | undefined): Promise<void> {
  if (cluster.isPrimary) await runPrimary(config, childLogger(logger, { role: "primary" }), env);
  else {
    const role = workerRoleOf();
    await runWorker(config, childLogger(logger, role === "notify" ? { worker: cluster.worker?.id, role } : { worker: cluster.worker?.id }), role);
  }
}

function urlOf(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

async function runPrimary(config: AppConfig, logger: Logger, env: Readonly<Record<string, string | undefined>> | undefined): Promise<void> {
  // Once per start, before any worker serves: migrations, the WEBHOOK_URL endpoint, the product seed.
  try {
    const database = await openDatabase(config.databaseUrl);
    try {
      await prepareDatabase(database.db, config, logger);
    } finally {
      await database.close();
    }
  } catch (error) {
    logger.fatal({ err: error }, "the API could not start");
    process.exit(1);
  }

  // A worker forked by main(env) sees the same variables as the primary did.
  const forkEnv = env === undefined ? undefined : Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const started = new Map<number, number>();
  // What each worker serves: a dead one is replaced by one of the same role.
  const roles = new Map<number, WorkerRole>();
  const restarts = new Set<NodeJS.Timeout>();
  let quickDeaths = 0;
  let listening = false;
  let stopping = false;
  let failed = false;
  let metricsServer: RunningMetricsServer | undefined;

  const fork = (role: WorkerRole): Worker => {
    const worker = cluster.fork({ ...forkEnv, [WORKER_ROLE_VARIABLE]: role });
    started.set(worker.id, Date.now());
    roles.set(worker.id, role);
    return worker;
  };
  const alive = (): Worker[] => Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && !worker.isDead());

  const finish = async (code: number): Promise<void> => {
    await metricsServer?.stop();
    logger.info({ code }, "stopped");
    process.exit(code);
  };

  const stopAll = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    for (const timer of restarts) clearTimeout(timer);
    restarts.clear();
    const workers = alive();
    logger.info({ reason, workers: workers.map((worker) => worker.process.pid) }, "draining workers");
    for (const worker of workers) worker.send({ type: STOP_MESSAGE });
    const deadlineMs = config.shutdown.timeoutMs + DRAIN_GRACE_MS;
    const deadline = setTimeout(() => {
      const left = alive();
      logger.error({ workers: left.map((worker) => worker.process.pid), deadlineMs }, "workers did not drain in time: killing them");
      failed = true;
      for (const worker of left) worker.process.kill("SIGKILL");
    }, deadlineMs);
    deadline.unref();
    if (workers.length === 0) void finish(failed ? 1 : 0);
  };

  cluster.on("exit", (worker, code, signal) => {
    const livedMs = Date.now() - (started.get(worker.id) ?? Date.now());
    started.delete(worker.id);
    const role = roles.get(worker.id) ?? "api";
    roles.delete(worker.id);
    const fields = { worker: worker.id, workerPid: worker.process.pid, ...(role === "notify" ? { workerRole: "notify" } : {}), code, signal, livedMs };
    if (stopping) {
      if (code !== 0) failed = true;
      logger.info(fields, "worker stopped");
      if (alive().length === 0) void finish(failed ? 1 : 0);
      return;
    }
    if (!listening) {
      // A worker that cannot start (bad key files, database unreachable) would fail the same way again.
      logger.fatal(fields, "a worker could not start: stopping");
      failed = true;
      stopAll("start failed");
      return;
    }
    const decision = restartDecision(quickDeaths, livedMs);
    quickDeaths = decision.quickDeaths;
    if (decision.delayMs === undefined) {
      logger.fatal({ ...fields, quickDeaths }, "workers keep dying: giving up");
      failed = true;
      stopAll("crash loop");
      return;
    }
    logger.error({ ...fields, quickDeaths, restartInMs: decision.delayMs }, "worker died: restarting it");
    const timer = setTimeout(() => {
      restarts.delete(timer);
      if (!stopping) fork(role);
    }, decision.delayMs);
    restarts.add(timer);
  });

  cluster.on("listening", (worker, address) => {
    if (!listening) return;
    logger.info(
      { worker: worker.id, workerPid: worker.process.pid, ...(roles.get(worker.id) === "notify" ? { workerRole: "notify" } : {}), port: address.port },
      "worker restarted",
    );
  });

  let forced = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!stopping) {
      logger.info({ signal }, "stopping");
      stopAll(signal);
      return;
    }
    // A second signal: no more waiting. Each worker logs what it still had in flight and exits 1; one that does not is killed.
    if (forced) return;
    forced = true;
    logger.warn({ signal, graceMs: FORCE_GRACE_MS }, "stopping at once: killing the workers");
    failed = true;
    for (const worker of alive()) worker.send({ type: FORCE_MESSAGE });
    const kill = setTimeout(() => {
      for (const worker of alive()) worker.process.kill("SIGKILL");
    }, FORCE_GRACE_MS);
    kill.unref();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  // Every API worker listens on PORT (PORT=0: the port the first one got, which the others share); the notify worker on NOTIFY_PORT.
  const roster = workerRoles(config);
  const addresses = await Promise.all(
    roster.map(
      (role) =>
        new Promise<AddressInfo | undefined>((resolve) => {
          const worker = fork(role);
          worker.once("listening", (address: AddressInfo) => resolve(address));
          worker.once("exit", () => resolve(undefined));
        }),
    ),
  );
  // A worker that could not start has begun the stop already.
  if (addresses.includes(undefined)) return;
  const notifyAt = roster.indexOf("notify");
  listening = true;
  if (config.metrics !== undefined) {
    // One view of the host: each scrape asks every worker for its registry and adds them up (gauges read from the database are taken once).
    const aggregator = new AggregatorRegistry();
    try {
      metricsServer = await startMetricsServer({ registry: aggregator, text: () => aggregator.clusterMetrics() }, { ...config.metrics, logger });
    } catch (error) {
      logger.fatal({ err: error }, "the metrics server could not start: stopping");
      failed = true;
      stopAll("start failed");
      return;
    }
  }
  const port = (addresses[0] as AddressInfo).port;
  logger.info(
    {
      url: urlOf(config.host, port),
      ...(config.notifyListener === undefined || notifyAt < 0 ? {} : { notifyUrl: urlOf(config.notifyListener.host, (addresses[notifyAt] as AddressInfo).port) }),
      workers: alive().map((worker) => ({ worker: worker.id, pid: worker.process.pid, role: roles.get(worker.id) ?? "api" })),
      ...(metricsServer === undefined ? {} : { metrics: metricsServer.url }),
    },
    "API listening",
  );
}

async function runWorker(config: AppConfig, logger: Logger, role: WorkerRole): Promise<void> {
  const state: { controller?: ShutdownController; forcedEarly: boolean } = { forcedEarly: false };
  // Asked to stop while starting: it stops as soon as it has started.
  let pending: string | undefined;
  const begin = (reason: string): void => {
    if (state.controller !== undefined) state.controller.begin(reason);
    else pending ??= reason;
  };
  const signal = (name: string): void => {
    if (state.controller !== undefined) state.controller.signal(name);
    else if (pending === undefined) pending = name;
    else state.forcedEarly = true;
  };
  const force = (reason: string): void => {
    if (state.controller !== undefined) state.controller.force(reason);
    else state.forcedEarly = true;
  };
  process.on("message", (message: unknown) => {
    if (typeof message !== "object" || message === null) return;
    const type = (message as { type?: unknown }).type;
    // The primary's drain is this worker's drain (readiness first); its second signal forces.
    if (type === STOP_MESSAGE) begin("primary");
    else if (type === FORCE_MESSAGE) force("primary forced");
  });
  // Ctrl-C reaches every process of the group (and the primary forwards it: that one only starts the drain);
  // a second Ctrl-C forces. A lost primary (killed) leaves nobody to serve for.
  process.on("SIGINT", (name) => signal(name));
  process.on("SIGTERM", (name) => signal(name));
  process.on("disconnect", () => begin("primary gone"));

  // Notifies first on a saturated host: beside a notify worker, an API worker yields the CPU to it (API_WORKER_NICENESS).
  // Before startApi, so the threads it starts inherit the lower priority.
  if (role === "api" && config.notifyListener !== undefined && config.apiWorkerNiceness > 0) {
    try {
      const lowered = lowerOwnPriority(config.apiWorkerNiceness);
      logger.info({ nice: lowered.nice, threads: lowered.threads }, "API worker yields the CPU to the notify worker");
    } catch (error) {
      // Serving at the same priority is slower for notifies under a flood, never wrong: the worker starts anyway.
      logger.warn({ err: error, niceness: config.apiWorkerNiceness }, "API_WORKER_NICENESS could not be applied: this API worker runs at its usual priority");
    }
  }

  let api: RunningApi;
  try {
    api = await startApi(config, logger, { clusterWorker: true, role });
  } catch (error) {
    logger.fatal({ err: error }, "the API could not start");
    process.exit(1);
  }
  // The primary's scrape asks this worker for its registry over the cluster channel.
  AggregatorRegistry.setRegistries([api.metrics.registry]);
  new AggregatorRegistry();
  // The same sequence as a single process (src/shutdown.ts): readiness, listener, requests, group commit, deliveries, database.
  const controller = processShutdown(api, config, logger);
  state.controller = controller;
  if (pending !== undefined) controller.begin(pending);
  if (state.forcedEarly) controller.force("forced while starting");
}
