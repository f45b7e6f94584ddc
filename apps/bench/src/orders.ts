// GET /api/orders/:id and create-order (with its unifiedorder round trip to the sandbox), beside a bare Koa hello-world.
import type { LoadRequest } from "./load/job.js";
import { describeExtent, describeFailures, FULL_HTTP, HTTP_HEADERS, httpCells, measureHttpInterleaved, QUICK_HTTP, ratioCell } from "./load/rounds.js";
import { fixedTarget } from "./load/targets.js";
import { markdownTable, type Section } from "./markdown.js";
import type { RunOptions } from "./run-options.js";
import { clientHeaders, startStack, type ApiInstance, type Dialect } from "./servers/api-stack.js";
import { processCpuSeconds } from "./servers/cpu.js";
import { orderIdAt } from "./data/orders.js";

/** Orders in each API's table; every lookup reads one of them. */
const STORED_ORDERS = 10_000;
const USERS = 16;

function dialectLabel(dialect: Dialect): string {
  return dialect === "sqlite" ? "SQLite" : "PostgreSQL";
}

/** A deterministic shuffle (xorshift), so runs look the orders up in the same scattered order. */
export function shuffled<T>(items: readonly T[], seed = 0x9e3779b9): T[] {
  const out = [...items];
  let state = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** GET /api/orders/:id for each of `indices`, each with its owner's session (orders are owned round-robin). */
export function lookupRequests(api: ApiInstance, indices: readonly number[]): LoadRequest[] {
  return indices.map((index) => {
    const owner = api.users[index % api.users.length];
    if (owner === undefined) throw new Error("The API has no signed-in users.");
    return { method: "GET", path: `/api/orders/${orderIdAt(index)}`, headers: clientHeaders(owner.token) };
  });
}

/** POST /api/orders for one mug, from each user in turn. */
export function createOrderRequests(api: ApiInstance): LoadRequest[] {
  const body = JSON.stringify({ items: [{ productId: "mug", quantity: 1 }] });
  return api.users.map((user) => ({ method: "POST", path: "/api/orders", headers: { ...clientHeaders(user.token), "content-type": "application/json" }, body }));
}

/** The `## Orders` section. */
export async function benchOrders(run: RunOptions): Promise<Section> {
  const options = run.quick ? QUICK_HTTP : FULL_HTTP;
  const stack = await startStack(run.apiNodeArgs === undefined ? {} : { apiNodeArgs: run.apiNodeArgs });
  try {
    const hello = await stack.startReference("koa-hello");
    const apis: ApiInstance[] = [];
    for (const dialect of ["sqlite", "postgres"] as const) {
      run.log(`orders: starting the API on ${dialect} and seeding ${STORED_ORDERS} orders`);
      const api = await stack.startApi(`orders-${dialect}`, dialect, USERS);
      await api.db.insertOrders({ from: 0, count: STORED_ORDERS, kind: "mixed", users: api.users });
      await api.db.settle();
      apis.push(api);
    }
    const everyOrder = shuffled(Array.from({ length: STORED_ORDERS }, (_, i) => i));
    const lookups = apis.map((api) => fixedTarget(`GET /api/orders/:id on ${dialectLabel(api.dialect)}`, api.url, () => api.cpuSeconds(), lookupRequests(api, everyOrder)));
    const creates = apis.map((api) =>
      fixedTarget(`POST /api/orders on ${dialectLabel(api.dialect)} (+ unifiedorder to the sandbox)`, api.url, () => api.cpuSeconds(), createOrderRequests(api)),
    );
    const targets = [fixedTarget("(a) bare Koa hello-world", hello.url, () => processCpuSeconds(hello.pid), [{ method: "GET", path: "/", headers: {} }]), ...lookups, ...creates];
    run.log(`orders: ${targets.length} contenders, ${options.rounds} interleaved rounds of ${describeExtent(options.measure)}`);
    const measured = await measureHttpInterleaved(targets, options, run.log);
    const [a] = measured;
    if (a === undefined) throw new Error("The orders benchmark lost its reference.");
    const rows = measured.map((m) => [...httpCells(m), ratioCell(m, a)]);
    const body = [
      `Each API's table holds ${STORED_ORDERS.toLocaleString("en-US")} orders (nine paid to one closed) of ${USERS} users who signed in ` +
        `through the real path (sandbox login code, \`POST /api/session\`). Lookups ask for every order once per cycle, in a scattered order, ` +
        `each with its owner's session and the mini-program's contract header; a paid or closed order is answered from the database alone. ` +
        `Create-order prices the items, stores the order, calls unifiedorder on the sandbox (in the bench process, over HTTP) and signs the ` +
        `payment params: it includes a gateway round trip, so it is reported apart and its CPU column leaves out the sandbox's share.`,
      "",
      markdownTable([...HTTP_HEADERS, "vs (a)"], rows),
      "",
      describeFailures(measured),
    ].join("\n");
    return { heading: "## Orders: lookup and create", body, checks: [] };
  } finally {
    await stack.stop();
  }
}
