// Linux gives each thread its own nice value: a worker thread can lower its own priority without touching
// the rest of the process (the sandbox on the bench's main thread, the other generator).
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/** This thread's kernel id: /proc/thread-self links to "<pid>/task/<tid>" (the main thread's id is the pid). */
export function currentThreadId(): number {
  const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
  if (!Number.isInteger(tid) || tid <= 0) throw new Error("This thread's id cannot be read from /proc/thread-self.");
  return tid;
}

/** Sets one thread's nice value (0 to 19 without privileges: a thread may only lower its priority). */
export function setThreadNiceness(tid: number, niceness: number): void {
  if (!Number.isInteger(niceness) || niceness < 0 || niceness > 19) throw new Error(`A generator's niceness is a whole number from 0 to 19, not ${niceness}.`);
  setPriority(tid, niceness);
}
