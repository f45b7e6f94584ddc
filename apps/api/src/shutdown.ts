// The graceful shutdown of one API process (issue 21; docs/reliability.md "Graceful shutdown"). Two parts:
// - the Lifecycle (one per startApi): drain() makes /readyz answer 503 while everything is still served for
//   SHUTDOWN_READINESS_DELAY_MS (a load balancer stops sending), then runs the stop steps in order (close the
//   listener and finish the requests in flight, then the sweep, the reconciliation run, the webhook deliveries,
//   the group commit, the activity buffer, the database);
// - the ShutdownController (one per process): the first SIGTERM/SIGINT starts the drain, a second one or
//   SHUTDOWN_TIMEOUT_SECONDS passing forces the exit (FORCED_EXIT_CODE) after logging what was still in flight.
// Both take their timers and clock from outside, so tests drive the whole sequence without sleeping.
import type { Logger } from "pino";
import type { Clock } from "./clock.js";

/** The exit code of a forced stop (a second signal, or the deadline): the same 1 as a failed stop or start, so a supervisor sees a failure. */
export const FORCED_EXIT_CODE = 1;

/** One-shot timers: `set` returns the function that cancels it. */
export interface ShutdownTimers {
  set(callback: () => void, ms: number): () => void;
}

/** Node's timers. */
export const systemTimers: ShutdownTimers = {
  set(callback, ms) {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
};

/** One named step of the stop, in order (the name is what a forced exit logs as still running). */
export interface StopStep {
  readonly name: string;
  run(): Promise<void>;
}

/** serving → unready (/readyz says 503, everything else served) → stopping (the steps run) → stopped. */
export type LifecyclePhase = "serving" | "unready" | "stopping" | "stopped";

/** A request still being answered. */
export interface InFlightRequest {
  readonly method: string;
  /** The path without its query (which may carry tokens). */
  readonly path: string;
  readonly ms: number;
}

/** A process's way down. */
export interface Lifecycle {
  readonly phase: LifecyclePhase;
  /** True from drain() on: /readyz answers 503 `{status:"draining"}`. */
  readonly draining: boolean;
  /** The stop step running now, if any. */
  readonly step: string | undefined;
  /** Readiness first, then (after the delay) the stop steps. Called again, it returns the same promise. */
  drain(reason: string): Promise<void>;
  /** The stop steps at once, without the readiness delay (RunningApi.stop). Called again, it returns the same promise. */
  stop(): Promise<void>;
}

export interface LifecycleOptions {
  readonly readinessDelayMs: number;
  readonly steps: readonly StopStep[];
  readonly timers: ShutdownTimers;
  readonly logger: Logger;
}

export function createLifecycle(options: LifecycleOptions): Lifecycle {
  let phase: LifecyclePhase = "serving";
  let step: string | undefined;
  let stopping: Promise<void> | undefined;
  let draining: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      phase = "stopping";
      try {
        for (const next of options.steps) {
          step = next.name;
          await next.run();
        }
        step = undefined;
      } finally {
        // A failed step stays named for the log.
        phase = "stopped";
      }
    })();
    return stopping;
  };
  return {
    get phase() {
      return phase;
    },
    get draining() {
      return phase !== "serving";
    },
    get step() {
      return step;
    },
    drain(reason) {
      draining ??= (async () => {
        if (phase === "serving") phase = "unready";
        if (stopping === undefined && options.readinessDelayMs > 0) {
          options.logger.info({ reason, readinessDelayMs: options.readinessDelayMs }, "draining: readiness is 503, still serving");
          await new Promise<void>((resolve) => options.timers.set(resolve, options.readinessDelayMs));
        }
        options.logger.info({ reason }, "draining: closing the listener, finishing requests in flight");
        await stop();
      })();
      return draining;
    },
    stop,
  };
}

/** The requests a server is answering, for the forced exit's log; and `Connection: close` once it is closing. */
export interface InFlightTracker {
  /** Called for each request as it arrives (the server's "request" event). */
  track(request: { readonly method?: string | undefined; readonly url?: string | undefined }, response: InFlightResponse): void;
  /** From now on every answer not yet started carries `Connection: close` (and its connection is closed after it). */
  closing(): void;
  list(): InFlightRequest[];
}

/** What the tracker needs of a node:http ServerResponse. */
export interface InFlightResponse {
  readonly headersSent: boolean;
  shouldKeepAlive: boolean;
  once(event: "close", listener: () => void): unknown;
}

/** The most requests a forced exit lists (the count is always logged). */
const MAX_LISTED = 20;

export function createInFlightTracker(clock: Clock): InFlightTracker {
  const open = new Map<InFlightResponse, { method: string; path: string; at: number }>();
  let closing = false;
  const noKeepAlive = (response: InFlightResponse): void => {
    if (!response.headersSent) response.shouldKeepAlive = false;
  };
  return {
    track(request, response) {
      open.set(response, { method: request.method ?? "?", path: (request.url ?? "").split("?")[0] ?? "", at: clock() });
      response.once("close", () => open.delete(response));
      if (closing) noKeepAlive(response);
    },
    closing() {
      closing = true;
      for (const response of open.keys()) noKeepAlive(response);
    },
    list() {
      const now = clock();
      return [...open.values()]
        .sort((a, b) => a.at - b.at)
        .slice(0, MAX_LISTED)
        .map((entry) => ({ method: entry.method, path: entry.path, ms: now - entry.at }));
    },
  };
}

/** What the process does on signals. */
export interface ShutdownController {
  /** SIGTERM/SIGINT: the first starts the drain, any later one forces the exit. */
  signal(name: string): void;
  /** Starts the drain if it has not started (a worker's primary asking); never forces. */
  begin(reason: string): void;
  /** Logs what is still in flight and exits with FORCED_EXIT_CODE (once). */
  force(reason: string): void;
}

export interface ShutdownControllerOptions {
  readonly lifecycle: Lifecycle;
  /** SHUTDOWN_TIMEOUT_SECONDS in ms, from the first signal. */
  readonly timeoutMs: number;
  readonly timers: ShutdownTimers;
  readonly logger: Logger;
  readonly inFlight: () => readonly InFlightRequest[];
  readonly exit: (code: number) => void;
}

export function createShutdownController(options: ShutdownControllerOptions): ShutdownController {
  const { lifecycle, logger } = options;
  let started = false;
  let done = false;
  let cancelDeadline: (() => void) | undefined;
  const finish = (code: number): void => {
    if (done) return;
    done = true;
    cancelDeadline?.();
    options.exit(code);
  };
  const force = (reason: string): void => {
    if (done) return;
    const inFlight = options.inFlight();
    logger.error(
      { reason, phase: lifecycle.phase, step: lifecycle.step, inFlightRequests: inFlight.length, requests: inFlight, exitCode: FORCED_EXIT_CODE },
      "shutdown forced: exiting with work in flight",
    );
    finish(FORCED_EXIT_CODE);
  };
  const begin = (reason: string): void => {
    if (started) return;
    started = true;
    logger.info({ signal: reason, timeoutMs: options.timeoutMs }, "stopping");
    cancelDeadline = options.timers.set(() => force(`deadline of ${options.timeoutMs} ms passed`), options.timeoutMs);
    lifecycle.drain(reason).then(
      () => {
        if (done) return;
        logger.info({ reason }, "stopped cleanly");
        finish(0);
      },
      (error: unknown) => {
        if (done) return;
        logger.error({ err: error, step: lifecycle.step }, "stopping failed");
        finish(1);
      },
    );
  };
  return {
    signal(name) {
      if (!started) begin(name);
      else force(`second ${name}`);
    },
    begin,
    force,
  };
}
