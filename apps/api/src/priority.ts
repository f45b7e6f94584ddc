// API_WORKER_NICENESS: an API worker lowers its own CPU priority so that, when every core is busy (a create-order
// flood), the notify worker is scheduled first. Lowering one's own priority needs no privilege.
import { readdirSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/** Linux's highest nice value (the lowest priority). */
const MAX_NICE = 19;

/** What lowerOwnPriority did: the nice value each thread now has, and how many threads it set. */
export interface LoweredPriority {
  readonly nice: number;
  readonly threads: number;
}

/** The kernel ids of this process's threads (Linux: /proc/self/task), or undefined where there is no such list. */
function ownThreadIds(): number[] | undefined {
  try {
    return readdirSync("/proc/self/task")
      .map(Number)
      .filter((tid) => Number.isInteger(tid) && tid > 0);
  } catch {
    return undefined;
  }
}

/** Node's system error for a thread id that no longer exists (uv_os_setpriority: ESRCH, in `info.code`). */
function isNoSuchThread(error: unknown): boolean {
  const info = (error as { info?: { code?: unknown } } | null)?.info;
  return info?.code === "ESRCH";
}

/**
 * Adds `by` to this process's nice value (capped at 19), as nice(1) would. Linux gives each thread its own nice
 * value, so every thread running now is set (V8's and libuv's, started before any JavaScript); threads started
 * later inherit it from the thread that starts them. Elsewhere the process's one value is set. Throws when the
 * system refuses (a platform without nice values).
 */
export function lowerOwnPriority(by: number): LoweredPriority {
  if (!Number.isInteger(by) || by < 0 || by > MAX_NICE) throw new RangeError(`a niceness is a whole number from 0 to ${MAX_NICE}, not ${by}`);
  const nice = Math.min(MAX_NICE, getPriority() + by);
  const threads = ownThreadIds();
  if (threads === undefined) {
    setPriority(nice);
    return { nice, threads: 1 };
  }
  let set = 0;
  for (const tid of threads) {
    try {
      setPriority(tid, nice);
      set++;
    } catch (error) {
      // A thread that ended since the list was read is no longer there to set.
      if (!isNoSuchThread(error)) throw error;
    }
  }
  return { nice, threads: set };
}
