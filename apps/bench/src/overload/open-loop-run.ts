// The open-loop generator itself: sends arrival i at its scheduled time over a keep-alive agent, whatever
// happened to the arrivals before it, and reports every arrival's fate. Runs in a worker thread
// (open-loop-worker.ts); the tests call it directly.
import { Agent, request } from "node:http";
import { arrivalSchedule, dueBy, NO_ANSWER, NOT_SENT, TIMED_OUT, type OpenLoopAnswer, type OpenLoopJob, type OpenLoopResult } from "./open-loop.js";

/** Runs `job` on this thread's event loop; resolves once every arrival was answered, timed out or not sent. */
export function openLoop(job: OpenLoopJob): Promise<OpenLoopResult> {
  return new Promise((resolve) => {
    const schedule = arrivalSchedule(job.rate, job.seconds);
    const agent = new Agent({ keepAlive: true, maxSockets: job.maxSockets });
    const answers: OpenLoopAnswer[] = new Array<OpenLoopAnswer>(schedule.length);
    let pending = 0;
    let settled = 0;
    let maxSendLagMs = 0;
    let lastAnswerAt = 0;
    let finished = false;
    const started = performance.now();

    const finish = (): void => {
      if (finished) return;
      finished = true;
      agent.destroy();
      resolve({ answers, maxSendLagMs, elapsedMs: lastAnswerAt - started });
    };

    const settle = (answer: OpenLoopAnswer): void => {
      answers[answer.index] = answer;
      settled++;
      lastAnswerAt = performance.now();
      if (settled === schedule.length) finish();
    };

    const send = (index: number): void => {
      const scheduledAt = started + (schedule[index] ?? 0);
      maxSendLagMs = Math.max(maxSendLagMs, performance.now() - scheduledAt);
      if (pending >= job.maxPending) {
        settle({ index, status: NOT_SENT, latencyMs: Number.NaN });
        return;
      }
      const spec = job.requests[index % job.requests.length];
      if (spec === undefined) throw new Error("An open-loop job needs at least one request.");
      pending++;
      let done = false;
      const end = (status: number, body?: string): void => {
        if (done) return;
        done = true;
        pending--;
        clearTimeout(deadline);
        const latencyMs = status > 0 ? performance.now() - scheduledAt : Number.NaN;
        settle({ index, status, latencyMs, ...(body === undefined ? {} : { body }) });
      };
      const outgoing = request(`${job.url}${spec.path}`, { method: spec.method, headers: spec.headers, agent }, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("end", () => {
          const status = incoming.statusCode ?? NO_ANSWER;
          const keep = job.keepBodies === "all" || status < 200 || status >= 300;
          end(status, keep ? Buffer.concat(chunks).toString("utf8").slice(0, 500) : undefined);
        });
        incoming.on("error", () => end(NO_ANSWER));
      });
      // The deadline runs from the scheduled arrival: time queued for a connection counts.
      const deadline = setTimeout(
        () => {
          end(TIMED_OUT);
          outgoing.destroy();
        },
        Math.max(0, scheduledAt + job.timeoutMs - performance.now()),
      );
      outgoing.on("error", () => end(NO_ANSWER));
      outgoing.end(spec.body);
    };

    let next = 0;
    const tick = (): void => {
      const due = dueBy(schedule, performance.now() - started, next);
      for (; next < due; next++) send(next);
      if (next < schedule.length) setTimeout(tick, 1);
    };

    if (schedule.length === 0) finish();
    else tick();
  });
}
