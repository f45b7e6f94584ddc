// The open-loop generator's thread: runs the job it was given and posts back the result.
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import type { OpenLoopJob } from "./open-loop.js";
import { openLoop } from "./open-loop-run.js";

const job = workerData as OpenLoopJob;
if (job.niceness !== undefined) {
  // Linux gives each thread its own nice value: /proc/thread-self names this thread's id, and setpriority on it
  // lowers this thread only (never the sandbox on the main thread, nor the other generator).
  const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
  setPriority(tid, job.niceness);
}
parentPort?.postMessage(await openLoop(job));
