import { fork, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import type { MemoryRequest, MemorySample, ReadyMessage } from "./protocol.js";

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const ASK_TIMEOUT_MS = 30_000;

/** A server process the bench started; `stop` ends it (SIGTERM, then SIGKILL). */
export interface ChildServer {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** Its memory after a full GC. */
  memory(): Promise<MemorySample>;
  /** Sends `message` and resolves with the first message back that `isAnswer` accepts (within 30 s). */
  ask<T>(message: object, isAnswer: (reply: unknown) => reply is T): Promise<T>;
  stop(): Promise<void>;
}

export interface StartChildOptions {
  readonly name: string;
  readonly script: URL;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Extra node options, e.g. `--cpu-prof` to profile a server. */
  readonly nodeArgs?: readonly string[];
  /** stdout and stderr go here (the API logs a line per request, as in production). */
  readonly logFile: string;
}

const running = new Set<ChildProcess>();

// Backstop: a bench that crashes still ends the processes it started (only those, by their handle).
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Forks a server script with --expose-gc and waits until it reports its port. */
export async function startChild(options: StartChildOptions): Promise<ChildServer> {
  const log = openSync(options.logFile, "a");
  const child = fork(options.script, [...(options.args ?? [])], {
    execArgv: ["--expose-gc", ...(options.nodeArgs ?? [])],
    env: { ...options.env },
    stdio: ["ignore", log, log, "ipc"],
  });
  closeSync(log);
  running.add(child);
  child.once("exit", () => running.delete(child));
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no ready message in time")), READY_TIMEOUT_MS);
      child.once("message", (message: ReadyMessage) => {
        clearTimeout(timer);
        resolve(message.port);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`exited before it was ready (${signal ?? code})`));
      });
    });
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${options.name}: ${(error as Error).message}\n${tail(options.logFile)}`, { cause: error });
  }
  return {
    name: options.name,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    memory: () =>
      new Promise<MemorySample>((resolve) => {
        child.once("message", (sample: MemorySample) => resolve(sample));
        const request: MemoryRequest = { type: "memory" };
        child.send(request);
      }),
    ask<T>(message: object, isAnswer: (reply: unknown) => reply is T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.off("message", listen);
          reject(new Error(`${options.name} did not answer ${JSON.stringify(message)} in time.`));
        }, ASK_TIMEOUT_MS);
        const listen = (reply: unknown): void => {
          if (!isAnswer(reply)) return;
          clearTimeout(timer);
          child.off("message", listen);
          resolve(reply);
        };
        child.on("message", listen);
        child.send(message);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
