// Runs autocannon in a worker thread, so the load generator never shares an event loop with the
// bench's own servers (the sandbox runs on the main thread).
import { parentPort, workerData } from "node:worker_threads";
import autocannon from "autocannon";
import type { LoadJob, LoadOutcome } from "./job.js";

const job = workerData as LoadJob;
let next = 0;

function options(measure: LoadJob["measure"]): autocannon.Options {
  const { requests, expectBodyIncludes } = job;
  return {
    url: job.url,
    connections: job.connections,
    timeout: 30,
    ...("amount" in measure ? { amount: measure.amount } : { duration: measure.seconds }),
    requests: [
      {
        setupRequest(request) {
          const spec = requests[next % requests.length];
          next++;
          if (spec === undefined) throw new Error("A load job needs at least one request.");
          request.method = spec.method;
          request.path = spec.path;
          request.headers = { ...spec.headers };
          if (spec.body !== undefined) request.body = spec.body;
          return request;
        },
      },
    ],
    ...(expectBodyIncludes === undefined ? {} : { verifyBody: (body: string) => body.includes(expectBodyIncludes) }),
    ...(job.overallRate === undefined ? {} : { overallRate: job.overallRate }),
  };
}

/** The q-quantile of ascending values (nearest rank). */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

const measured = options(job.measure);
// Latency and throughput from every response (autocannon's own histogram keeps whole milliseconds,
// and it only notices the end of a run at its next one-second tick).
const latencies: number[] = [];
let lastResponseAt = 0;
const startedAt = performance.now();
const instance = autocannon(measured);
instance.on("response", (_client, _status, _bytes, responseTimeMs) => {
  latencies.push(responseTimeMs);
  lastResponseAt = performance.now();
});
// Off the main thread autocannon hands back raw figures: summarise them as it does on the main thread.
const result = autocannon.aggregateResult([await instance], measured);
const sorted = Float64Array.from(latencies).sort();
const seconds = (lastResponseAt - startedAt) / 1000;
const outcome: LoadOutcome = {
  requestsPerSecond: latencies.length / seconds,
  p50Ms: quantile(sorted, 0.5),
  p99Ms: quantile(sorted, 0.99),
  completed: latencies.length,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  mismatches: result.mismatches,
  seconds,
  used: next,
};
parentPort?.postMessage(outcome);
