// The open-loop generator's thread: runs the job it was given and posts back the result.
import { parentPort, workerData } from "node:worker_threads";
import type { OpenLoopJob } from "./open-loop.js";
import { openLoop } from "./open-loop-run.js";
import { currentThreadId, setThreadNiceness } from "./thread-priority.js";

const job = workerData as OpenLoopJob;
if (job.niceness !== undefined) setThreadNiceness(currentThreadId(), job.niceness);
parentPort?.postMessage(await openLoop(job));
