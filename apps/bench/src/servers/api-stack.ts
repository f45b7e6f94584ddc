// The system under test: @pay/sandbox in the bench's own process (playing WeChat: logins and
// unifiedorder), PostgreSQL when asked, and API processes on SQLite or PostgreSQL.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONTRACT_VERSION, CONTRACT_VERSION_HEADER } from "@pay/core/contract";
import { createSandboxPki, startSandbox, writeSandboxPki, type SandboxPkiPaths } from "@pay/sandbox";
import { merchantEnv, sandboxMerchant } from "@pay/test-kit/merchants";
import { freePort } from "@pay/test-kit/ports";
import { createSandboxControlClient } from "@pay/sandbox/control";
import { ADMIN_TOKEN, MERCHANT, SESSION_SECRET } from "../data/merchant.js";
import { createV3BenchMerchant, v3ApiEnv, type V3BenchMerchant } from "../data/v3-merchant.js";
import { openPostgresSeed, openSqliteSeed, type SeedDatabase, type SeedUser } from "../data/seed.js";
import { startChild, type ChildServer } from "./children.js";
import { childPids, processCpuSeconds } from "./cpu.js";
import { startPostgres, type BenchPostgres } from "./postgres.js";
import { isReceiverWindowMessage, type ReceiverWindowMessage } from "./protocol.js";

export type Dialect = "sqlite" | "postgres";
/** The protocol the API places orders with: v2 (notifies at /wxpay/notify) or APIv3 (WXPAY_API_VERSION=v3, notifies at /wxpay/v3/notify). */
export type ApiProtocol = "v2" | "v3";

const API_PROCESS = new URL("./api-process.js", import.meta.url);
const REFERENCE_SERVER = new URL("./reference-server.js", import.meta.url);
const WEBHOOK_RECEIVER = new URL("./webhook-receiver.js", import.meta.url);
const START_ATTEMPTS = 3;

/** CPU seconds of a process and of its children (API_WORKERS' workers): those alive, and those that ended and were waited for. */
export function processTreeCpuSeconds(pid: number): number {
  return processCpuSeconds(pid, true) + childPids(pid).reduce((sum, child) => sum + processCpuSeconds(child), 0);
}

/** A user signed in through the real path (sandbox login code, then POST /api/session). */
export interface BenchUser extends SeedUser {
  readonly token: string;
}

/** One API process with its own database. */
export interface ApiInstance {
  readonly name: string;
  readonly dialect: Dialect;
  readonly protocol: ApiProtocol;
  /** The APIv3 merchant of a v3 API (its keys, and the gateway's signer for notifies); undefined on v2. */
  readonly v3: V3BenchMerchant | undefined;
  readonly url: string;
  readonly server: ChildServer;
  /** DATABASE_URL as the API was given it. */
  readonly databaseUrl: string;
  readonly users: readonly BenchUser[];
  /** A second connection to the API's database, for bulk seeding and checks. */
  readonly db: SeedDatabase;
  /**
   * CPU seconds used so far by the API process (with API_WORKERS, its primary and every worker, live or ended) and, on
   * PostgreSQL, the database server: what serving requests costs.
   */
  cpuSeconds(): number;
}

/** The fast HTTPS webhook receiver in its own process (see webhook-receiver.ts). */
export interface WebhookReceiver {
  readonly url: string;
  readonly pid: number;
  /** What an API needs to deliver to it: WEBHOOK_URL, WEBHOOK_SECRET, and NODE_EXTRA_CA_CERTS naming the CA of its certificate. */
  readonly apiEnv: Readonly<Record<string, string>>;
  /** The deliveries since the previous call (and the totals since it started). */
  takeWindow(): Promise<ReceiverWindowMessage>;
}

/** More of an API's start: extra environment (e.g. a receiver's apiEnv, WEBHOOK_DELIVERY). */
export interface StartApiOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Start on this (stopped) API's database and with its users, instead of a fresh database: a restart. */
  readonly restartOf?: ApiInstance;
}

export interface Stack {
  /** The sandbox's base URL (its control API too: e.g. a gateway-wide latency for a run). */
  readonly sandboxUrl: string;
  /**
   * An API process on a fresh database with `userCount` signed-in users; `apiModule` runs another build of @pay/api;
   * `protocol` v3 runs it as an APIv3 merchant (same appid and mchid, the stack's generated keys, public-key mode).
   */
  startApi(name: string, dialect: Dialect, userCount: number, apiModule?: string, protocol?: ApiProtocol, options?: StartApiOptions): Promise<ApiInstance>;
  /** A webhook receiver over HTTPS (a certificate from a CA made for the stack), verifying with a secret of its own. */
  startReceiver(): Promise<WebhookReceiver>;
  /** The stack's PostgreSQL server (started on first use). */
  postgres(): Promise<BenchPostgres>;
  startReference(kind: "koa-hello" | "koa-body" | "tenpay"): Promise<ChildServer>;
  /** The create-order contender (tenpay-create.ts) on `dbFile`, calling the stack's sandbox. */
  startTenpayCreate(dbFile: string): Promise<ChildServer>;
  /** A path for a file of the run (deleted by `stop`). */
  file(name: string): string;
  /** Stops every process and server the stack started, and deletes its files. */
  stop(): Promise<void>;
}

/** Headers the mini-program sends on every API call. */
export function clientHeaders(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}`, [CONTRACT_VERSION_HEADER]: CONTRACT_VERSION };
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const answer = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const parsed = (await answer.json()) as Record<string, unknown>;
  if (!answer.ok) throw new Error(`POST ${url} answered ${answer.status}: ${JSON.stringify(parsed)}`);
  return parsed;
}

/** The API's environment, as an operator would set it; the sweep is pushed out of the way of the measurements. */
export function apiEnv(port: number, databaseUrl: string, sandboxUrl: string): Record<string, string> {
  return {
    NODE_ENV: "production",
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: "info",
    WXPAY_BASE_URL: sandboxUrl,
    ...merchantEnv(MERCHANT),
    WXPAY_SIGN_TYPE: MERCHANT.signType,
    WXPAY_NOTIFY_URL: `http://127.0.0.1:${port}/wxpay/notify`,
    WX_API_BASE_URL: sandboxUrl,
    SESSION_SECRET,
    ADMIN_TOKEN,
    SWEEP_INTERVAL_SECONDS: "86400",
    // The bench stops its APIs itself, with no load balancer to tell: no readiness delay on SIGTERM.
    SHUTDOWN_READINESS_DELAY_MS: "0",
    // The bench's users place and pay orders far faster than a payer: its sections measure cost, not the rate
    // limits (RATE_LIMIT_*, issue 21), so they are off unless a section sets them (the overload section does).
    RATE_LIMIT_ORDERS: "off",
    RATE_LIMIT_RENEWALS: "off",
    RATE_LIMIT_SIGN_INS: "off",
  };
}

export interface StackOptions {
  /** Extra node options for every API process (`--cpu-prof --cpu-prof-dir=...` to profile it). */
  readonly apiNodeArgs?: readonly string[];
}

/** Starts the sandbox (and PostgreSQL on first use) for a benchmark. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const workDir = mkdtempSync(join(tmpdir(), "pay-bench-"));
  const sandbox = await startSandbox({
    merchants: [sandboxMerchant(MERCHANT)],
    requireClientCert: false,
  });
  const control = createSandboxControlClient({ baseUrl: sandbox.url });
  let postgres: BenchPostgres | undefined;
  const children: ChildServer[] = [];
  const databases: SeedDatabase[] = [];
  let v3Merchant: V3BenchMerchant | undefined;
  /** The CA and server certificate of the stack's webhook receivers (made on first use). */
  let receiverPki: SandboxPkiPaths | undefined;

  const signIn = async (apiUrl: string, user: string): Promise<{ openid: string; token: string }> => {
    const { code, openid } = await control.createLoginCode({ appid: MERCHANT.appId, user });
    const { token } = (await postJson(`${apiUrl}/api/session`, { code }, { [CONTRACT_VERSION_HEADER]: CONTRACT_VERSION })) as { token: string };
    return { openid, token };
  };

  return {
    sandboxUrl: sandbox.url,
    async startApi(name, dialect, userCount, apiModule, protocol = "v2", startOptions = {}) {
      const v3 = protocol === "v3" ? (v3Merchant ??= createV3BenchMerchant(workDir)) : undefined;
      const restartOf = startOptions.restartOf;
      let databaseUrl: string;
      if (restartOf !== undefined) databaseUrl = restartOf.databaseUrl;
      else if (dialect === "sqlite") databaseUrl = join(workDir, `${name}.sqlite`);
      else {
        postgres ??= await startPostgres();
        databaseUrl = await postgres.createDatabase(name.replace(/[^a-z0-9_]/gi, "_"));
      }
      let server: ChildServer | undefined;
      for (let attempt = 1; server === undefined; attempt++) {
        // The port is free when chosen but could be taken before the API binds it: then choose again.
        const port = await freePort();
        try {
          server = await startChild({
            name,
            script: API_PROCESS,
            env: {
              ...apiEnv(port, databaseUrl, sandbox.url),
              ...(v3 === undefined ? {} : v3ApiEnv(v3, `http://127.0.0.1:${port}`)),
              ...(apiModule === undefined ? {} : { PAY_BENCH_API_MODULE: apiModule }),
              ...startOptions.env,
            },
            logFile: join(workDir, `${name}.log`),
            ...(options.apiNodeArgs === undefined ? {} : { nodeArgs: options.apiNodeArgs }),
          });
        } catch (error) {
          if (attempt >= START_ATTEMPTS) throw error;
        }
      }
      children.push(server);
      const serverPid = server.pid;
      const database = dialect === "postgres" ? postgres : undefined;
      const cpuSeconds = (): number => processTreeCpuSeconds(serverPid) + (database?.cpuSeconds() ?? 0);
      if (restartOf !== undefined) return { ...restartOf, name, url: server.url, server, cpuSeconds };
      const db = dialect === "sqlite" ? openSqliteSeed(databaseUrl) : await openPostgresSeed(databaseUrl);
      databases.push(db);
      const sessions: Array<{ openid: string; token: string }> = [];
      for (let n = 0; n < userCount; n++) sessions.push(await signIn(server.url, `${name}-user-${n}`));
      const ids = await db.userIds(sessions.map((s) => s.openid));
      const users = sessions.map((s, n) => ({ id: ids[n] ?? "", openid: s.openid, token: s.token }));
      return { name, dialect, protocol, v3, url: server.url, server, databaseUrl, users, db, cpuSeconds };
    },
    async startReceiver() {
      receiverPki ??= await writeSandboxPki(createSandboxPki({ mchIds: [] }), join(workDir, "receiver-pki"));
      const pki = receiverPki;
      const secret = randomBytes(24).toString("base64url");
      const name = `webhook-receiver-${children.length}`;
      const secretFile = join(workDir, `${name}.secret`);
      writeFileSync(secretFile, secret, { mode: 0o600 });
      const server = await startChild({
        name,
        script: WEBHOOK_RECEIVER,
        args: [pki.serverCert, pki.serverKey, secretFile],
        logFile: join(workDir, `${name}.log`),
      });
      children.push(server);
      const url = `https://127.0.0.1:${new URL(server.url).port}/webhooks`;
      return {
        url,
        pid: server.pid,
        apiEnv: { WEBHOOK_URL: url, WEBHOOK_SECRET: secret, NODE_EXTRA_CA_CERTS: pki.ca },
        takeWindow: async () => {
          const answer = await server.ask({ type: "receiver-window" }, isReceiverWindowMessage);
          // IPC carries JSON, where NaN (no receipt in the window) arrives as null.
          const time = (value: number | null): number => (typeof value === "number" ? value : Number.NaN);
          return { ...answer, window: { ...answer.window, firstAtMs: time(answer.window.firstAtMs), lastAtMs: time(answer.window.lastAtMs) } };
        },
      };
    },
    async postgres() {
      postgres ??= await startPostgres();
      return postgres;
    },
    async startReference(kind) {
      const server = await startChild({ name: kind, script: REFERENCE_SERVER, args: [kind], logFile: join(workDir, `${kind}.log`) });
      children.push(server);
      return server;
    },
    async startTenpayCreate(dbFile) {
      const name = "tenpay-create";
      const server = await startChild({ name, script: REFERENCE_SERVER, args: [name, sandbox.url, dbFile], logFile: join(workDir, `${name}.log`) });
      children.push(server);
      return server;
    },
    file(name) {
      return join(workDir, name);
    },
    async stop() {
      for (const child of children.splice(0)) await child.stop();
      for (const db of databases.splice(0)) await db.close();
      await sandbox.stop();
      await postgres?.stop();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
