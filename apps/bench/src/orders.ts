// GET /api/orders/:id and create-order (with its unifiedorder round trip to the sandbox), beside a bare Koa hello-world.
import type { LoadRequest } from "./load/job.js";
import { describeExtent, describeFailures, FULL_HTTP, HTTP_HEADERS, httpCells, measureHttpInterleaved, QUICK_HTTP, ratioCell, type HttpMeasurement } from "./load/rounds.js";
import { fixedTarget } from "./load/targets.js";
import { formatRatio, markdownTable, type Section, type TargetCheck } from "./markdown.js";
import type { RunOptions } from "./run-options.js";
import { clientHeaders, startStack, type ApiInstance, type Dialect } from "./servers/api-stack.js";
import { processCpuSeconds } from "./servers/cpu.js";
import { CREATE_ORDER_PATH, prepareTenpayCreateDatabase } from "./servers/tenpay-create.js";
import { orderIdAt } from "./data/orders.js";

/** Orders in each API's table; every lookup reads one of them. */
const STORED_ORDERS = 10_000;
const USERS = 16;

/** Targets of issue 20, as CPU-per-request ratios within one run. */
export const ORDER_TARGETS = {
  /** The API's create-order at least this many times cheaper (API CPU/req) than the tenpay contender, on SQLite. */
  createVsTenpay: 1.5,
  /** GET /api/orders/:id at most this many times bare Koa's CPU/req (a). */
  lookupVsHello: { sqlite: 3.6, postgres: 7 },
} as const;

/** The reference rows of the table. */
export const ORDER_REFERENCES = {
  hello: "(a) bare Koa hello-world",
  tenpayCreate: "(t) tenpay 2.1.18 create-order (getPayParams + SQLite insert) (+ unifiedorder to the sandbox)",
} as const;

/** The label of a row of the table. */
export function lookupLabel(dialect: Dialect): string {
  return `GET /api/orders/:id on ${dialectLabel(dialect)}`;
}

export function createLabel(dialect: Dialect): string {
  return `POST /api/orders on ${dialectLabel(dialect)} (+ unifiedorder to the sandbox)`;
}

/** The section's targets from its measurements (by row label); a missing row fails its check. */
export function orderChecks(measured: readonly HttpMeasurement[]): TargetCheck[] {
  const cpu = (name: string): number => measured.find((m) => m.name === name)?.cpuMicrosPerRequest ?? Number.NaN;
  const hello = cpu(ORDER_REFERENCES.hello);
  const createRatio = cpu(ORDER_REFERENCES.tenpayCreate) / cpu(createLabel("sqlite"));
  const checks: TargetCheck[] = [
    {
      label: `POST /api/orders on SQLite: >= ${ORDER_TARGETS.createVsTenpay}x cheaper than the tenpay create-order contender in server CPU/req, the sandbox's share excluded on both sides (measured ${formatRatio(createRatio)})`,
      pass: createRatio >= ORDER_TARGETS.createVsTenpay,
    },
  ];
  for (const dialect of ["sqlite", "postgres"] as const) {
    const ratio = cpu(lookupLabel(dialect)) / hello;
    const limit = ORDER_TARGETS.lookupVsHello[dialect];
    checks.push({ label: `GET /api/orders/:id on ${dialectLabel(dialect)}: <= ${limit}x (a)'s server CPU/req (measured ${formatRatio(ratio)})`, pass: ratio <= limit });
  }
  return checks;
}

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

/** Every successful create answer (the API's and the contender's) carries the requestPayment package. */
const CREATED_MARK = "prepay_id=";

/** POST /api/orders for one mug, from each user in turn. */
export function createOrderRequests(api: ApiInstance): LoadRequest[] {
  const body = JSON.stringify({ items: [{ productId: "mug", quantity: 1 }] });
  return api.users.map((user) => ({ method: "POST", path: CREATE_ORDER_PATH, headers: { ...clientHeaders(user.token), "content-type": "application/json" }, body }));
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
    const sqliteApi = apis.find((api) => api.dialect === "sqlite");
    if (sqliteApi === undefined) throw new Error("The orders benchmark lost its SQLite API.");
    run.log("orders: starting the tenpay create-order contender on its own SQLite file, with the SQLite API's users");
    const contenderDb = stack.file("tenpay-create.sqlite");
    await prepareTenpayCreateDatabase(contenderDb, sqliteApi.users);
    const tenpayCreate = await stack.startTenpayCreate(contenderDb);
    const everyOrder = shuffled(Array.from({ length: STORED_ORDERS }, (_, i) => i));
    const lookups = apis.map((api) => fixedTarget(lookupLabel(api.dialect), api.url, () => api.cpuSeconds(), lookupRequests(api, everyOrder)));
    const creates = apis.map((api) => fixedTarget(createLabel(api.dialect), api.url, () => api.cpuSeconds(), createOrderRequests(api), CREATED_MARK));
    const targets = [
      fixedTarget(ORDER_REFERENCES.hello, hello.url, () => processCpuSeconds(hello.pid), [{ method: "GET", path: "/", headers: {} }]),
      ...lookups,
      ...creates,
      // The same requests as the SQLite API's create rows: its users' tokens, the same JSON body.
      fixedTarget(ORDER_REFERENCES.tenpayCreate, tenpayCreate.url, () => processCpuSeconds(tenpayCreate.pid), createOrderRequests(sqliteApi), CREATED_MARK),
    ];
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
      `- (t) is the create-order a shop would write on tenpay 2.1.18, in its own process: Koa + @koa/router, the same bearer token ` +
        `(HMAC-SHA256 checked as the API does) and JSON body, the user's openid and the product's price read from SQLite, the order ` +
        `inserted into a real SQLite file with @pay/api's schema (its migrations, same pragmas) before the gateway is called, ` +
        `\`getPayParams\` (tenpay's \`unifiedOrder\` over urllib, xml2js parse, signature check, then the signed requestPayment params), ` +
        `and the prepay id stored. tenpay has no base-URL option: its \`urls.unifiedorder\` is pointed at the same sandbox after construction. ` +
        `It keeps no idempotency, activity, metrics or request log, and answers 201 with the order and the params.`,
      "",
      markdownTable([...HTTP_HEADERS, "vs (a)"], rows),
      "",
      describeFailures(measured),
      "",
      `Targets: POST /api/orders on SQLite >= ${ORDER_TARGETS.createVsTenpay}x cheaper than (t) in server CPU per request; ` +
        `GET /api/orders/:id <= ${ORDER_TARGETS.lookupVsHello.sqlite}x (a)'s CPU per request on SQLite, <= ${ORDER_TARGETS.lookupVsHello.postgres}x on PostgreSQL.`,
    ].join("\n");
    return { heading: "## Orders: lookup and create", body, checks: orderChecks(measured) };
  } finally {
    await stack.stop();
  }
}
