import { Worker } from "node:worker_threads";
import type { LoadJob, LoadOutcome } from "./job.js";

const WORKER = new URL("./load-worker.js", import.meta.url);

/** How long past its planned time a run may go before it is stopped and counted as failed. */
const GRACE_MS = 120_000;

function plannedMs(job: LoadJob): number {
  // An amount has no planned time; allow one request per millisecond, at least.
  const measureMs = "seconds" in job.measure ? job.measure.seconds * 1000 : job.measure.amount;
  return measureMs;
}

/** Runs one load job in a fresh worker thread; bounded by its planned time plus a grace period. */
export async function runLoad(job: LoadJob): Promise<LoadOutcome> {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(job.url)) throw new Error(`Load goes to 127.0.0.1 only, not ${job.url}.`);
  const worker = new Worker(WORKER, { workerData: job });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<LoadOutcome>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`A load run against ${job.url} did not finish in time.`)), plannedMs(job) + GRACE_MS);
      worker.once("message", (outcome: LoadOutcome) => resolve(outcome));
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`The load worker exited (${code}) without a result.`)));
    });
  } finally {
    clearTimeout(timer);
    await worker.terminate();
  }
}
