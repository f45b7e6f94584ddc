// Memory: the API's RSS and heap after 100k mixed requests against after 1k.
import type { LoadRequest } from "./load/job.js";
import { runLoad } from "./load/load.js";
import { assertAcknowledges, notifyRequest } from "./load/targets.js";
import { formatCount, formatMiB, formatRatio, markdownTable, type Section, type TargetCheck } from "./markdown.js";
import { createOrderRequests, lookupRequests, shuffled } from "./orders.js";
import type { RunOptions } from "./run-options.js";
import type { MemorySample } from "./servers/protocol.js";
import { startStack } from "./servers/api-stack.js";

const STORED_ORDERS = 10_000;
const USERS = 16;
/** The "no heap growth", with room for noise: heap after 100k requests at most this many times the heap after 1k. */
const MAX_HEAP_RATIO = 1.1;
const CONNECTIONS = 50;

/** GET an order, create an order, a duplicate notify: in turn, over and over. */
function mixedRequests(lookups: readonly LoadRequest[], creates: readonly LoadRequest[], duplicate: LoadRequest): LoadRequest[] {
  return lookups.flatMap((lookup, n) => [lookup, creates[n % creates.length] ?? lookup, duplicate]);
}

interface Checkpoint {
  readonly label: string;
  readonly requests: number;
  readonly sample: MemorySample;
}

/** The `## Memory` section. */
export async function benchMemory(run: RunOptions): Promise<Section> {
  const steps = run.quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
  const first = steps[0] ?? 0;
  const total = steps[steps.length - 1] ?? 0;
  const stack = await startStack(run.apiNodeArgs === undefined ? {} : { apiNodeArgs: run.apiNodeArgs });
  try {
    const api = await stack.startApi("memory-sqlite", "sqlite", USERS);
    await api.db.insertOrders({ from: 0, count: STORED_ORDERS, kind: "mixed", users: api.users });
    await api.db.insertOrders({ from: STORED_ORDERS, count: 1, kind: "pending", users: api.users });
    await api.db.settle();
    const duplicate = notifyRequest(STORED_ORDERS);
    await assertAcknowledges(api.name, api.url, duplicate);
    const requests = mixedRequests(lookupRequests(api, shuffled(Array.from({ length: STORED_ORDERS }, (_, i) => i))), createOrderRequests(api), duplicate);
    const checkpoints: Checkpoint[] = [{ label: "started, seeded, before any load", requests: 0, sample: await api.server.memory() }];
    let failures = 0;
    let sent = 0;
    for (const target of steps) {
      run.log(`memory: ${formatCount(target - sent)} mixed requests (to ${formatCount(target)})`);
      // Each run starts the cycle afresh; the shares of the three kinds stay a third each.
      const outcome = await runLoad({ url: api.url, connections: CONNECTIONS, measure: { amount: target - sent }, requests });
      failures += outcome.non2xx + outcome.errors + outcome.timeouts + outcome.mismatches;
      sent = target;
      checkpoints.push({ label: `after ${formatCount(target)} requests`, requests: target, sample: await api.server.memory() });
    }
    const afterFirst = checkpoints[1];
    const afterTotal = checkpoints[checkpoints.length - 1];
    if (afterFirst === undefined || afterTotal === undefined) throw new Error("The memory benchmark lost a sample.");
    const heapRatio = afterTotal.sample.heapUsed / afterFirst.sample.heapUsed;
    const rssRatio = afterTotal.sample.rss / afterFirst.sample.rss;
    const rows = checkpoints.map((c) => [
      c.label,
      formatMiB(c.sample.rss),
      formatMiB(c.sample.heapUsed),
      formatMiB(c.sample.heapTotal),
      formatMiB(c.sample.external),
      formatRatio(c.sample.heapUsed / afterFirst.sample.heapUsed),
      formatRatio(c.sample.rss / afterFirst.sample.rss),
    ]);
    const checks: TargetCheck[] = [
      {
        label: `Memory: heap after ${formatCount(total)} requests within ${MAX_HEAP_RATIO}x of after ${formatCount(first)} (measured ${formatRatio(heapRatio)}; RSS ${formatRatio(rssRatio)})`,
        pass: heapRatio <= MAX_HEAP_RATIO,
      },
    ];
    const body = [
      `One API process on SQLite (${formatCount(STORED_ORDERS)} stored orders), ${CONNECTIONS} connections sending, in turn, ` +
        `\`GET /api/orders/:id\` (a different order each time), \`POST /api/orders\` (a new order and a unifiedorder call to the sandbox ` +
        `in the bench process) and a duplicate pay notify. The API runs under \`--expose-gc\`; at each checkpoint the bench asks it ` +
        `(over the IPC channel of the bench's wrapper, nothing added to the API) for \`process.memoryUsage()\` after two full GCs. ` +
        `The create-orders add ${formatCount(Math.floor(total / 3))} rows to the database; SQLite's page cache is bounded.`,
      "",
      markdownTable(["checkpoint", "RSS", "heap used", "heap total", "external", "heap vs 1k", "RSS vs 1k"], rows),
      "",
      failures === 0 ? `All ${formatCount(total)} requests were answered 2xx.` : `${formatCount(failures)} of ${formatCount(total)} requests failed.`,
      "",
      `Target: no heap growth, read as heap used after ${formatCount(total)} requests at most ${MAX_HEAP_RATIO}x the heap after ${formatCount(first)}.`,
    ].join("\n");
    return { heading: "## Memory", body, checks };
  } finally {
    await stack.stop();
  }
}
