#!/usr/bin/env node
// The reliability soak: a longer mixed workload against real API processes (apps/api/dist/main.js) and
// the sandbox gateway, all on 127.0.0.1. Virtual users sign in, order, pay (and cancel, and fail),
// poll, renew, close, send duplicate and forged notifies; an admin refunds, sometimes concurrently and
// beyond what is left; gateway faults are injected throughout. Then the faults stop, the sandbox's
// retries and the sweep settle everything, and the money invariants are checked against both the
// database and the gateway. Prints the figures; exits 1 on any violation.
//
//   npx -y pnpm@10.34.9 --filter @pay/api... build
//   node apps/api/scripts/soak.mjs [--minutes 2] [--users 8] [--processes 1] [--database-url postgres://...]
//
// SQLite (a temp file) by default; --database-url postgres://... with --processes 2 runs two processes
// on one PostgreSQL database. Every request is awaited before the next (closed loop): load is bounded
// by --users, and the run by --minutes plus at most 90 s of settling.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildSignedPayNotify } from "@pay/core/testing";
import { startSandbox } from "@pay/sandbox";
import { createSandboxControlClient, SandboxControlError } from "@pay/sandbox/control";

const API_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
const MAIN = join(API_DIR, "dist", "main.js");
const MERCHANT = { appId: "wx8888888888888888", mchId: "1230000109", key: "Soak0key0Soak0key0Soak0key0Soak0", appSecret: "soak-miniprogram-app-secret" };
const ADMIN_TOKEN = "soak-admin-token-0123456789abcdef";
const PRODUCTS = ["coffee-beans", "mug", "tote", "test-item"];
const FAULTS = [[{ kind: "http", status: 503 }], [{ kind: "http", status: 500 }], [{ kind: "garbage" }], [{ kind: "systemerror" }], [{ kind: "delay", ms: 800 }]];
const FAULT_PATHS = ["/pay/unifiedorder", "/pay/orderquery", "/pay/closeorder", "/secapi/pay/refund", "/pay/refundquery", "*"];
const FAIL = "<return_code><![CDATA[FAIL]]></return_code>";
const SUCCESS = "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>";

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "2" },
    users: { type: "string", default: "8" },
    processes: { type: "string", default: "1" },
    "database-url": { type: "string" },
    seed: { type: "string", default: String(Date.now() % 100000) },
  },
});
const minutes = Number(args.minutes);
const users = Number(args.users);
const processCount = Number(args.processes);
if (!(minutes > 0 && minutes <= 120) || !(users >= 1 && users <= 64) || !(processCount >= 1 && processCount <= 8)) {
  console.error("soak: --minutes 0<m<=120, --users 1..64, --processes 1..8");
  process.exit(2);
}
if (!existsSync(MAIN)) {
  console.error(`soak: ${MAIN} is missing; build first: npx -y pnpm@10.34.9 --filter @pay/api... build`);
  process.exit(2);
}

// A small seeded generator, so a run can be repeated with --seed.
let state = Number(args.seed) >>> 0 || 1;
const random = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
};
const pick = (list) => list[Math.floor(random() * list.length)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- figures -----------------------------------------------------------------------------------
const stats = { requests: 0, byStatus: {}, latencies: {}, counts: {}, violations: [] };
const count = (name, by = 1) => (stats.counts[name] = (stats.counts[name] ?? 0) + by);
const violation = (text) => {
  stats.violations.push(text);
  console.error(`VIOLATION: ${text}`);
};
const quantile = (values, q) => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]);
};

function loopback(url) {
  const { hostname } = new URL(url);
  if (hostname !== "127.0.0.1") throw new Error(`soak: refusing non-loopback URL ${url}`);
  return url;
}

/** One request to an API process; records status and latency under `label`; never throws. */
async function call(base, label, method, path, { token, body, headers = {}, xml } = {}) {
  const started = performance.now();
  let status = 0;
  let text = "";
  try {
    const response = await fetch(loopback(`${base}${path}`), {
      method,
      headers: {
        ...headers,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...(xml !== undefined ? { "content-type": "text/xml" } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : xml,
      signal: AbortSignal.timeout(60_000),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    text = String(error);
  }
  const ms = performance.now() - started;
  stats.requests += 1;
  stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
  (stats.latencies[label] ??= []).push(ms);
  if (status === 0) violation(`${label}: no answer (${text.slice(0, 120)})`);
  if (status === 500) violation(`${label}: HTTP 500 ${text.slice(0, 200)}`);
  let json;
  try {
    json = text.startsWith("{") ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (status >= 500 && status !== 0 && !["GATEWAY_TIMEOUT", "GATEWAY_UNAVAILABLE", "GATEWAY_ERROR"].includes(json?.error?.code)) {
    violation(`${label}: ${status} without a gateway error code: ${text.slice(0, 200)}`);
  }
  return { status, text, json };
}

// ---- processes ---------------------------------------------------------------------------------
function startProcess(env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const tail = [];
    let pending = "";
    const errors = {};
    const timer = setTimeout(() => reject(new Error(`API process did not start:\n${tail.join("\n")}`)), 30_000);
    const onData = (chunk) => {
      pending += chunk.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 50) tail.shift();
        if (line.includes('"level":50') || line.includes('"level":60')) {
          const msg = /"msg":"([^"]*)"/.exec(line)?.[1] ?? "?";
          errors[msg] = (errors[msg] ?? 0) + 1;
        }
        if (line.includes('"API listening"')) {
          clearTimeout(timer);
          resolve({ child, url: JSON.parse(line).url, errorLines: () => errors, tail });
        }
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`API process exited (${signal ?? code}):\n${tail.join("\n")}`));
    });
  });
}

function rssMb(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8")
      .split("\n")
      .find((l) => l.startsWith("VmRSS:"));
    return line ? Math.round(Number(line.replace(/\D+/g, "")) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

// ---- main --------------------------------------------------------------------------------------
const tempDir = mkdtempSync(join(tmpdir(), "pay-soak-"));
const databaseUrl = args["database-url"] ?? join(tempDir, "soak.sqlite");
const sandbox = await startSandbox({
  merchants: [{ appId: MERCHANT.appId, mchId: MERCHANT.mchId, key: MERCHANT.key, appSecrets: { [MERCHANT.appId]: MERCHANT.appSecret } }],
  requireClientCert: false,
  refundSettleMs: 300,
  // Real duplicates and concurrent copies on top of the ones the soak sends itself; 24 h of retries in 14 min.
  notify: { retryScale: 0.01, omitSignTypeForHmac: true, duplicates: 1, concurrent: 2, timeoutMs: 5000 },
});
const control = createSandboxControlClient({ baseUrl: sandbox.url });
const processes = [];
let nextProcess = 0;
const anyProcess = () => processes[nextProcess++ % processes.length].url;
// The sandbox notifies a round-robin balancer in front of the processes.
const balancer = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    fetch(`${anyProcess()}${req.url}`, { method: req.method, body: Buffer.concat(chunks), headers: { "content-type": req.headers["content-type"] ?? "text/xml" } })
      .then(async (r) => res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "text/plain" }).end(await r.text()))
      .catch(() => res.destroy());
  });
});
await new Promise((resolve) => balancer.listen(0, "127.0.0.1", resolve));
const balancerUrl = `http://127.0.0.1:${balancer.address().port}`;
const env = {
  DATABASE_URL: databaseUrl,
  PORT: "0",
  HOST: "127.0.0.1",
  LOG_LEVEL: "info",
  WXPAY_BASE_URL: sandbox.url,
  WXPAY_APPID: MERCHANT.appId,
  WXPAY_MCHID: MERCHANT.mchId,
  WXPAY_KEY: MERCHANT.key,
  WXPAY_NOTIFY_URL: `${balancerUrl}/wxpay/notify`,
  WXPAY_REFUND_NOTIFY_URL: `${balancerUrl}/wxpay/refund-notify`,
  WX_API_BASE_URL: sandbox.url,
  WX_APPSECRET: MERCHANT.appSecret,
  SESSION_SECRET: "soak-session-secret-0123456789abcdef",
  ADMIN_TOKEN,
  ORDER_QUERY_AFTER_SECONDS: "3",
  SWEEP_INTERVAL_SECONDS: "2",
};
let exitCode = 0;
try {
  // The first process migrates; the others find the schema ready.
  processes.push(await startProcess(env));
  while (processes.length < processCount) processes.push(await startProcess(env));
  console.log(
    `soak: ${minutes} min, ${users} users, ${processCount} API process(es) on ${databaseUrl.startsWith("postgres") ? "PostgreSQL" : "SQLite"}, sandbox ${sandbox.url}, seed ${args.seed}`,
  );

  const deadline = Date.now() + minutes * 60_000;
  const allOrders = new Map();

  const signIn = async (user) => {
    const { code } = await control.createLoginCode({ appid: MERCHANT.appId, user });
    const answer = await call(anyProcess(), "session", "POST", "/api/session", { body: { code } });
    return answer.json?.token;
  };
  const gatewayOrder = async (id) => (await control.listOrders({ out_trade_no: id })).orders[0];
  /** The gateway's view of every order, in one request. */
  const gatewayOrders = async () => new Map((await control.listOrders()).orders.map((o) => [o.out_trade_no, o]));
  const admin = (key) => ({ authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": key });

  const virtualUser = async (n) => {
    const token = await signIn(`soak-user-${n}`);
    if (token === undefined) return violation(`user ${n} could not sign in`);
    const mine = [];
    let keys = 0;
    while (Date.now() < deadline) {
      const roll = random();
      const pending = mine.filter((o) => o.status === "pending");
      const paid = mine.filter((o) => o.paidAtGateway);
      if (roll < 0.22 || mine.length === 0) {
        const key = random() < 0.3 ? `u${n}-k${keys++}` : undefined;
        const body = { items: [{ productId: pick(PRODUCTS), quantity: 1 + Math.floor(random() * 3) }] };
        const answer = await call(anyProcess(), "create order", "POST", "/api/orders", { token, body, headers: key ? { "idempotency-key": key } : {} });
        count("orders requested");
        if (answer.status === 201) {
          const order = { id: answer.json.order.id, totalFee: answer.json.order.totalFee, payment: answer.json.payment, status: "pending", paidAtGateway: false };
          mine.push(order);
          allOrders.set(order.id, order);
          if (key && random() < 0.5) {
            const replay = await call(anyProcess(), "replay order", "POST", "/api/orders", { token, body, headers: { "idempotency-key": key } });
            if (replay.status === 201 && replay.json.order.id !== order.id) violation(`Idempotency-Key ${key} replayed a different order`);
          }
        }
      } else if (roll < 0.42 && pending.length > 0) {
        const order = pick(pending);
        const outcome = random() < 0.8 ? "success" : pick(["cancel", "fail"]);
        // A refused payment (closed, already paid) is part of the load, not a failure of the soak.
        const answer = await control.pay({ prepay_id: order.payment.package.replace("prepay_id=", ""), outcome }).catch((error) => {
          if (error instanceof SandboxControlError && error.answer !== undefined) return error.answer;
          throw error;
        });
        count(`pay ${outcome}`);
        if (outcome === "success" && answer.errMsg === "requestPayment:ok") order.paidAtGateway = true;
      } else if (roll < 0.55 && mine.length > 0) {
        const order = pick(mine);
        const answer = await call(anyProcess(), "get order", "GET", `/api/orders/${order.id}`, { token });
        if (answer.status === 200) order.status = answer.json.order.status;
      } else if (roll < 0.62 && paid.length > 0) {
        const order = pick(paid);
        const view = await gatewayOrder(order.id);
        const fields = {
          return_code: "SUCCESS",
          result_code: "SUCCESS",
          appid: MERCHANT.appId,
          mch_id: MERCHANT.mchId,
          openid: "oSoak",
          trade_type: "JSAPI",
          bank_type: "OTHERS",
          total_fee: view.total_fee,
          fee_type: view.fee_type,
          cash_fee: view.cash_fee,
          transaction_id: view.transaction_id,
          out_trade_no: order.id,
          time_end: view.time_end,
        };
        const copies = 1 + Math.floor(random() * 5);
        const replies = await Promise.all(
          Array.from({ length: copies }, () =>
            call(anyProcess(), "duplicate notify", "POST", "/wxpay/notify", {
              xml: buildSignedPayNotify(fields, { key: MERCHANT.key, signType: "HMAC-SHA256", omitSignType: true }),
            }),
          ),
        );
        count("duplicate notifies", copies);
        for (const reply of replies)
          if (reply.text !== SUCCESS && reply.status !== 0) violation(`a genuine duplicate notify for ${order.id} was refused: ${reply.text.slice(0, 120)}`);
      } else if (roll < 0.66 && mine.length > 0) {
        const order = pick(mine);
        const forged = buildSignedPayNotify(
          {
            return_code: "SUCCESS",
            result_code: "SUCCESS",
            appid: MERCHANT.appId,
            mch_id: MERCHANT.mchId,
            total_fee: 1,
            fee_type: "CNY",
            transaction_id: "4200000000000000000000000000",
            out_trade_no: order.id,
            time_end: "20260101000000",
          },
          { key: random() < 0.5 ? MERCHANT.key : "ForgedKeyForgedKeyForgedKey00000", signType: "HMAC-SHA256" },
        );
        const reply = await call(anyProcess(), "forged notify", "POST", "/wxpay/notify", { xml: forged });
        count("forged notifies");
        if (!reply.text.includes(FAIL)) violation(`a forged notify for ${order.id} was not refused: ${reply.text.slice(0, 120)}`);
      } else if (roll < 0.72 && pending.length > 0) {
        const order = pick(pending);
        const answer = await call(anyProcess(), "close order", "POST", `/api/orders/${order.id}/close`, { token });
        if (answer.status === 200) order.status = "closed";
        if (answer.status === 200 && order.paidAtGateway) violation(`order ${order.id} closed after it was paid at the gateway`);
      } else if (roll < 0.78 && pending.length > 0) {
        const order = pick(pending);
        const answer = await call(anyProcess(), "renew payment", "POST", `/api/orders/${order.id}/payment`, { token });
        if (answer.status === 200) order.payment = answer.json.payment;
      } else if (roll < 0.92 && paid.length > 0) {
        const order = pick(paid);
        const fee = 1 + Math.floor(random() * order.totalFee * 0.6);
        const parallel = random() < 0.3 ? 3 : 1;
        // Half of the parallel ones are one request sent three times (the same Idempotency-Key).
        const sameKey = parallel > 1 && random() < 0.5;
        const firstKey = `u${n}-r${keys++}`;
        const requestKeys = Array.from({ length: parallel }, (_, i) => (i === 0 || sameKey ? firstKey : `u${n}-r${keys++}`));
        const answers = await Promise.all(
          requestKeys.map((key) => call(anyProcess(), "refund", "POST", `/api/admin/orders/${order.id}/refunds`, { body: { refundFee: fee }, headers: admin(key) })),
        );
        if (sameKey) {
          count("same-key refund races");
          const ids = new Set(answers.filter((a) => a.status === 201).map((a) => a.json.refund.id));
          if (ids.size > 1) violation(`one Idempotency-Key made ${ids.size} refunds on ${order.id}`);
        }
        for (const [i, answer] of answers.entries()) {
          count(answer.status === 201 ? "refunds accepted" : answer.status === 409 ? "refunds refused (409)" : `refunds answered ${answer.status}`);
          // A refund left unconfirmed by a fault is retried with its own key, as an admin tool would.
          if (answer.status >= 502 && answer.status <= 504 && random() < 0.7) {
            await sleep(200);
            const key = requestKeys[i];
            const retried = await call(anyProcess(), "refund retry", "POST", `/api/admin/orders/${order.id}/refunds`, { body: { refundFee: fee }, headers: admin(key) });
            count(`refund retries answered ${retried.status}`);
          }
        }
      } else {
        await call(anyProcess(), "list orders", "GET", "/api/orders?limit=20", { token });
      }
    }
  };

  const faultLoop = async () => {
    while (Date.now() < deadline) {
      await sleep(300 + random() * 700);
      if (Date.now() >= deadline) break;
      const path = pick(FAULT_PATHS);
      await control.addFault({ path, faults: pick(FAULTS), times: 1 + Math.floor(random() * 15) });
      count("fault rules injected");
    }
  };

  const started = performance.now();
  await Promise.all([...Array.from({ length: users }, (_, n) => virtualUser(n)), faultLoop()]);
  const loadSeconds = (performance.now() - started) / 1000;
  await control.clearFaults();

  // ---- settle: notify retries, queries and the sweep bring every order and refund to its final state.
  const { openDatabase } = await import(join(API_DIR, "dist", "db", "database.js"));
  const database = await openDatabase(databaseUrl);
  const settleStarted = performance.now();
  let unsettled = [];
  for (let round = 0; round < 90; round++) {
    unsettled = [];
    const rows = await database.db.selectFrom("orders").select(["id", "status"]).execute();
    const processing = await database.db.selectFrom("refunds").select("id").where("status", "=", "processing").execute();
    const views = await gatewayOrders();
    for (const row of rows) {
      const view = views.get(row.id);
      const paidThere = view?.trade_state === "SUCCESS" || view?.trade_state === "REFUND";
      if (paidThere !== (row.status === "paid" || row.status === "refunded")) unsettled.push(`${row.id}: ${row.status} here, ${view?.trade_state} at the gateway`);
    }
    unsettled.push(...processing.map((r) => `refund ${r.id} processing`));
    if (unsettled.length === 0) break;
    await sleep(1000);
  }
  const settleSeconds = (performance.now() - settleStarted) / 1000;
  for (const line of unsettled) violation(`not settled after 90 s: ${line}`);

  // ---- invariants, order by order, against the database and the gateway.
  const orders = await database.db.selectFrom("orders").selectAll().execute();
  const refunds = await database.db.selectFrom("refunds").selectAll().execute();
  const events = await database.db.selectFrom("payment_events").select("order_id").execute();
  const eventsPer = new Map();
  for (const event of events) eventsPer.set(event.order_id, (eventsPer.get(event.order_id) ?? 0) + 1);
  let refundedTotal = 0;
  const views = await gatewayOrders();
  for (const order of orders) {
    const view = views.get(order.id);
    const mineRefunds = refunds.filter((r) => r.order_id === order.id);
    const succeeded = mineRefunds.filter((r) => r.status === "succeeded").reduce((s, r) => s + r.refund_fee, 0);
    const open = mineRefunds.filter((r) => r.status !== "closed").reduce((s, r) => s + r.refund_fee, 0);
    const atGateway = (view?.refunds ?? []).filter((r) => r.refund_status !== "REFUNDCLOSE");
    refundedTotal += order.refunded_fee;
    if ((eventsPer.get(order.id) ?? 0) > 1) violation(`${order.id}: ${eventsPer.get(order.id)} paid events`);
    if ((order.status === "paid" || order.status === "refunded") !== ((eventsPer.get(order.id) ?? 0) === 1))
      violation(`${order.id}: status ${order.status} with ${eventsPer.get(order.id) ?? 0} paid events`);
    if (order.refunded_fee !== succeeded) violation(`${order.id}: refunded_fee ${order.refunded_fee} but succeeded refunds sum to ${succeeded}`);
    if (open > order.total_fee || order.reserved_refund_fee > order.total_fee)
      violation(`${order.id}: refunds ${open} / reserved ${order.reserved_refund_fee} exceed paid ${order.total_fee}`);
    if (atGateway.reduce((s, r) => s + r.refund_fee, 0) > order.total_fee) violation(`${order.id}: the gateway refunded more than was paid`);
    for (const r of atGateway) if (!mineRefunds.some((m) => m.id === r.out_refund_no)) violation(`${order.id}: gateway refund ${r.out_refund_no} unknown to the database`);
    if (order.status === "refunded" && order.refunded_fee !== order.total_fee) violation(`${order.id}: refunded with ${order.refunded_fee} of ${order.total_fee}`);
  }
  for (const p of processes) {
    const ready = await call(p.url, "readyz", "GET", "/readyz");
    if (ready.status !== 200) violation(`process ${p.child.pid} not ready at the end`);
  }
  await database.close();

  const latency = Object.fromEntries(
    Object.entries(stats.latencies)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([label, values]) => [label, { n: values.length, p50: quantile(values, 0.5), p95: quantile(values, 0.95), p99: quantile(values, 0.99), max: quantile(values, 1) }]),
  );
  const statuses = orders.reduce((acc, o) => ({ ...acc, [o.status]: (acc[o.status] ?? 0) + 1 }), {});
  const { deliveries } = await control.listDeliveries();
  const figures = {
    minutes,
    users,
    processes: processCount,
    database: databaseUrl.startsWith("postgres") ? "postgres" : "sqlite",
    seed: Number(args.seed),
    loadSeconds: Math.round(loadSeconds),
    settleSeconds: Math.round(settleSeconds),
    apiRequests: stats.requests,
    requestsPerSecond: Math.round(stats.requests / loadSeconds),
    httpStatus: stats.byStatus,
    orders: orders.length,
    orderStatus: statuses,
    paidEvents: events.length,
    refunds: refunds.length,
    refundedFeeTotal: refundedTotal,
    // The sandbox keeps the last 10 000 delivery attempts.
    notifyDeliveriesLogged: deliveries.length,
    notifyDeliveriesLoggedFailed: deliveries.filter((d) => d.outcome !== "acknowledged").length,
    counts: stats.counts,
    // Error-level log lines by message, per process (a garbage gateway answer is logged at error level).
    errorLogLines: processes.map((p) => p.errorLines()),
    rssMbAtEnd: processes.map((p) => rssMb(p.child.pid)),
    latencyMs: latency,
    violations: stats.violations.length,
  };
  console.log(JSON.stringify(figures, null, 2));
  if (stats.violations.length > 0) {
    console.error(`soak: ${stats.violations.length} violation(s)`);
    exitCode = 1;
  } else {
    console.log("soak: no violations");
  }
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  for (const p of processes) p.child.kill("SIGTERM");
  await Promise.all(processes.map((p) => new Promise((resolve) => (p.child.exitCode !== null ? resolve() : p.child.once("exit", resolve)))));
  balancer.closeAllConnections();
  balancer.close();
  await sandbox.stop();
  rmSync(tempDir, { recursive: true, force: true });
}
process.exit(exitCode);
