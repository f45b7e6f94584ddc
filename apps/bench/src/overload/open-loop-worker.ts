// The open-loop generator's thread: runs the job it was given and posts back the result.
import { parentPort, workerData } from "node:worker_threads";
import type { OpenLoopJob } from "./open-loop.js";
import { openLoop } from "./open-loop-run.js";

parentPort?.postMessage(await openLoop(workerData as OpenLoopJob));
