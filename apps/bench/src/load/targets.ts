import { signedPayNotify } from "../data/notifies.js";
import type { PendingPool } from "../data/pending-pool.js";
import { signedV3PayNotify, type V3BenchMerchant } from "../data/v3-merchant.js";
import type { ApiInstance } from "../servers/api-stack.js";
import type { LoadJob, LoadOutcome, LoadRequest } from "./job.js";
import type { Extent, LoadTarget } from "./rounds.js";

export const NOTIFY_PATH = "/wxpay/notify";
export const V3_NOTIFY_PATH = "/wxpay/v3/notify";
const XML_HEADERS = { "content-type": "text/xml" } as const;
/** Every notify contender must answer this (inside its XML). */
export const SUCCESS_MARK = "SUCCESS";
/** Rate assumed at least, to size a run's batch of distinct notifies. */
const FIRST_GUESS_PER_SECOND = 6_000;
/** Writes land a little after autocannon stops counting (in-flight requests). */
const IN_FLIGHT_MS = 300;

/** What a notify target needs of an API: where it listens, its database for the checks, its CPU time. */
export type NotifyApi = Pick<ApiInstance, "url" | "db" | "cpuSeconds">;

/** The notify of the i-th order as a request. */
export function notifyRequest(index: number): LoadRequest {
  return { method: "POST", path: NOTIFY_PATH, headers: XML_HEADERS, body: signedPayNotify(index) };
}

/** Notifies for orders from..from+count-1. */
export function notifyRequests(from: number, count: number): LoadRequest[] {
  return Array.from({ length: count }, (_, n) => notifyRequest(from + n));
}

/**
 * The APIv3 notify of the i-th order as a request, signed at `now`: the API refuses a notify whose
 * Wechatpay-Timestamp is more than 5 minutes off its clock, so v3 requests are built just before the run that sends them.
 */
export function v3NotifyRequest(index: number, merchant: V3BenchMerchant, now: Date = new Date()): LoadRequest {
  const notify = signedV3PayNotify(index, merchant, now);
  return { method: "POST", path: V3_NOTIFY_PATH, headers: { "content-type": "application/json", ...notify.headers }, body: notify.body };
}

/** APIv3 notifies for orders from..from+count-1, all signed now (each its own nonce, signature and encryption). */
export function v3NotifyRequests(from: number, count: number, merchant: V3BenchMerchant): LoadRequest[] {
  const now = new Date();
  return Array.from({ length: count }, (_, n) => v3NotifyRequest(from + n, merchant, now));
}

/** How a notify contender builds its requests: v2's (signed once, replayable at any time) or APIv3's (signed just before each run). */
export interface NotifyBuilder {
  /** Distinct notifies for orders from..from+count-1. */
  requests(from: number, count: number): LoadRequest[];
  /** The notify of one order. */
  request(index: number): LoadRequest;
}

/** v2 notifies: HMAC-SHA256-signed XML. */
export const V2_NOTIFIES: NotifyBuilder = { requests: notifyRequests, request: notifyRequest };

/** APIv3 notifies of `merchant`: SHA256withRSA-signed JSON with an AES-256-GCM-encrypted resource. */
export function v3Notifies(merchant: V3BenchMerchant): NotifyBuilder {
  return { requests: (from, count) => v3NotifyRequests(from, count, merchant), request: (index) => v3NotifyRequest(index, merchant) };
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A target that sends the same list of requests in every run. */
export function fixedTarget(name: string, url: string, cpuSeconds: () => number, requests: readonly LoadRequest[], expectBodyIncludes?: string): LoadTarget {
  return {
    name,
    cpuSeconds,
    job: (_phase, extent, connections): LoadJob => ({
      url,
      connections,
      measure: extent,
      requests,
      ...(expectBodyIncludes === undefined ? {} : { expectBodyIncludes }),
    }),
  };
}

/** Orders a run may need: its amount, or (for a duration) three times the fastest rate so far, as a shared machine can speed up a lot between rounds. */
function ordersFor(extent: Extent, fastest: number | undefined): number {
  if ("amount" in extent) return extent.amount;
  return Math.ceil(extent.seconds * Math.max(3 * (fastest ?? 0), FIRST_GUESS_PER_SECOND));
}

/**
 * Distinct notifies: each run takes fresh pending orders from the pool (sized from the fastest run
 * so far), and each measured run is checked afterwards: every acknowledged notify wrote its payment
 * event, and no order was sent twice.
 */
export function distinctNotifyTarget(name: string, api: NotifyApi, pool: PendingPool, notifies: NotifyBuilder = V2_NOTIFIES): LoadTarget {
  let fastest: number | undefined;
  let capacity = 0;
  let before = 0;
  return {
    name,
    cpuSeconds: () => api.cpuSeconds(),
    async job(phase, extent, connections) {
      const range = pool.take(ordersFor(extent, fastest) + connections * 2);
      if (range.count === 0) throw new Error(`${name}: no pending orders left for distinct notifies; seed a larger pool.`);
      capacity = range.count;
      if (phase === "measure") {
        await wait(IN_FLIGHT_MS);
        before = await api.db.countNotifyEvents();
      }
      return { url: api.url, connections, measure: extent, requests: notifies.requests(range.from, range.count), expectBodyIncludes: SUCCESS_MARK };
    },
    async check(outcome: LoadOutcome) {
      fastest = Math.max(fastest ?? 0, outcome.requestsPerSecond);
      await wait(IN_FLIGHT_MS);
      const written = (await api.db.countNotifyEvents()) - before;
      const acknowledged = outcome.completed - outcome.mismatches - outcome.non2xx;
      if (outcome.used > capacity) return `ran out of distinct orders (${outcome.used} requests for ${capacity} orders)`;
      if (written < acknowledged || written > outcome.used) return `${written} payment events for ${acknowledged} acknowledged notifies`;
      return undefined;
    },
  };
}

/**
 * Duplicates only: one order paid by an earlier notify, the same notify again and again; nothing may be written.
 * v2's notify is built once; an APIv3 one is signed afresh for each run (the same payment, a current timestamp).
 */
export function duplicateNotifyTarget(name: string, api: NotifyApi, paidIndex: number, notifies: NotifyBuilder = V2_NOTIFIES): LoadTarget {
  const once = notifies === V2_NOTIFIES ? fixedTarget(name, api.url, () => api.cpuSeconds(), [notifyRequest(paidIndex)], SUCCESS_MARK) : undefined;
  let before = 0;
  return {
    name,
    cpuSeconds: () => api.cpuSeconds(),
    async job(phase, extent, connections) {
      if (phase === "measure") before = await api.db.countNotifyEvents();
      const fixed = once ?? fixedTarget(name, api.url, () => api.cpuSeconds(), [notifies.request(paidIndex)], SUCCESS_MARK);
      return fixed.job(phase, extent, connections);
    },
    async check() {
      await wait(IN_FLIGHT_MS);
      const written = (await api.db.countNotifyEvents()) - before;
      return written === 0 ? undefined : `${written} payment events written by duplicates`;
    },
  };
}

/** Throws unless a notify contender acknowledges a notify the way WeChat Pay expects. */
export async function assertAcknowledges(name: string, url: string, request: LoadRequest): Promise<void> {
  const answer = await fetch(`${url}${request.path}`, { method: request.method, headers: request.headers, ...(request.body === undefined ? {} : { body: request.body }) });
  const text = await answer.text();
  if (answer.status !== 200 || !text.includes(SUCCESS_MARK)) throw new Error(`${name} does not acknowledge a valid notify: ${answer.status} ${text}`);
}
