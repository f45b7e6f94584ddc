import { setTimeout as sleep } from "node:timers/promises";
import type { TextSink } from "./log-format.js";

/** Where the demo writes; on a TTY it may redraw a line. */
export interface DemoOutput extends TextSink {
  readonly isTTY?: boolean | undefined;
}

export interface WaitOptions<T> {
  /** What is awaited, e.g. "the pay notify". */
  readonly label: string;
  readonly output: DemoOutput;
  /** Resolves to a value once the wait is over, undefined while it is not. A throw counts as "not yet". */
  readonly check: () => Promise<T | undefined>;
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  readonly indent?: string;
}

export interface WaitResult<T> {
  readonly value: T | undefined;
  readonly elapsedMs: number;
  /** The last error a check threw, for the failure message. */
  readonly lastError: unknown;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"] as const;
/** Without a TTY a line is printed this often, so a CI log shows the wait is alive. */
const PLAIN_EVERY_MS = 2000;

/** Polls `check` with a progress indicator: a spinner on a TTY, a plain line every 2 s otherwise. */
export async function waitWithProgress<T>(options: WaitOptions<T>): Promise<WaitResult<T>> {
  const { output, label } = options;
  const indent = options.indent ?? "";
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  if (output.isTTY === true) {
    timer = setInterval(() => {
      frame = (frame + 1) % FRAMES.length;
      output.write(`\r${indent}${FRAMES[frame]} waiting for ${label} (${(elapsed() / 1000).toFixed(1)} s)`);
    }, 80);
  } else {
    output.write(`${indent}... waiting for ${label}\n`);
    timer = setInterval(() => output.write(`${indent}... still waiting for ${label} (${Math.round(elapsed() / 1000)} s)\n`), PLAIN_EVERY_MS);
  }
  let lastError: unknown;
  try {
    while (elapsed() < options.timeoutMs) {
      try {
        const value = await options.check();
        if (value !== undefined) return { value, elapsedMs: elapsed(), lastError };
      } catch (error) {
        lastError = error;
      }
      await sleep(options.intervalMs ?? 100);
    }
    return { value: undefined, elapsedMs: elapsed(), lastError };
  } finally {
    clearInterval(timer);
    if (output.isTTY === true) output.write("\r\x1b[2K");
  }
}
