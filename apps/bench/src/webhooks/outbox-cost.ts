// What the outbox insert adds to a paid transition: the paid writer's batch (the API's own statements, from
// @pay/api/db) run on a database of its own, with and without the order.paid outbox statement, in
// interleaved rounds; CPU per transition of the bench process and, on PostgreSQL, of the whole server.
// The API's code is not changed for this: the variant without the outbox exists only here.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  migrateToLatest,
  openDatabase,
  POSTGRES_MARK_PAID,
  SQLITE_INSERT_ONE_EVENT,
  SQLITE_INSERT_ONE_OUTBOX,
  SQLITE_MARK_ONE_PAID,
  type Database,
  type OpenedDatabase,
  type PaidTransition,
} from "@pay/api/db";
import { CompiledQuery, type Kysely } from "kysely";
import { payNotifyFields } from "../data/notifies.js";
import { orderIdAt, totalFeeAt, transactionIdAt } from "../data/orders.js";
import { openPostgresSeed, openSqliteSeed, type SeedDatabase, type StoredWebhookEvent } from "../data/seed.js";
import { median, rotated } from "../harness.js";
import type { Dialect } from "../servers/api-stack.js";
import type { BenchPostgres } from "../servers/postgres.js";

/** How long the comparison runs. */
export interface OutboxCostOptions {
  /** Transitions per batch (the group commit held about 23 with 50 connections). */
  readonly batchSize: number;
  /** Batches per variant per round, each committed before the next. */
  readonly batches: number;
  readonly rounds: number;
  readonly warmupRounds: number;
}

export const FULL_OUTBOX_COST: OutboxCostOptions = { batchSize: 25, batches: 120, rounds: 9, warmupRounds: 1 };
export const QUICK_OUTBOX_COST: OutboxCostOptions = { batchSize: 25, batches: 30, rounds: 3, warmupRounds: 1 };

/** The comparison's outcome on one database: medians over the rounds, in µs of CPU per transition. */
export interface OutboxCost {
  readonly dialect: Dialect;
  readonly withOutboxMicros: number;
  readonly withoutOutboxMicros: number;
  /** Median over the rounds of (with - without), each round's pair measured back to back. */
  readonly outboxMicros: number;
  readonly transitionsPerVariant: number;
}

/** POSTGRES_MARK_PAID without its outbox CTE: the same statement as before the outbox existed. */
export function withoutOutboxCte(statement: string): string {
  const stripped = statement.replace(/\), outbox as \(\n[\s\S]*?\n\)\n/, ")\n");
  if (stripped === statement || stripped.includes("webhook_events")) throw new Error("The paid writer's PostgreSQL statement changed shape: its outbox CTE was not found.");
  return stripped;
}

type Variant = "with" | "without";
type BatchRunner = (batch: readonly PaidTransition[], variant: Variant) => Promise<number>;

/** SQLite: the writer's statements per transition (paid-writer.ts), in one transaction, the outbox insert optional here. */
function sqliteRunner(db: Kysely<Database>): BatchRunner {
  return (batch, variant) =>
    db.transaction().execute(async (trx) => {
      let moved = 0;
      for (const t of batch) {
        const marked = await trx.executeQuery(CompiledQuery.raw(SQLITE_MARK_ONE_PAID, [t.transactionId, t.at, t.at, t.orderId]));
        if (marked.numAffectedRows !== 1n) continue;
        moved++;
        await trx.executeQuery(CompiledQuery.raw(SQLITE_INSERT_ONE_EVENT, [t.orderId, t.source, t.transactionId, t.totalFee, t.feeType, t.cashFee, t.cashFeeType, t.raw, t.at]));
        if (variant === "with") await trx.executeQuery(CompiledQuery.raw(SQLITE_INSERT_ONE_OUTBOX, [t.eventId, t.orderId, t.eventPayload, t.at]));
      }
      return moved;
    });
}

/** PostgreSQL: the writer's one statement (writePostgres), or the same without the outbox CTE. */
function postgresRunner(db: Kysely<Database>): BatchRunner {
  const without = withoutOutboxCte(POSTGRES_MARK_PAID);
  return async (batch, variant) => {
    const column = <K extends keyof PaidTransition>(key: K): Array<PaidTransition[K]> => batch.map((t) => t[key]);
    const params = (["orderId", "source", "transactionId", "totalFee", "feeType", "cashFee", "cashFeeType", "raw", "at", "eventId", "eventPayload"] as const).map(column);
    const result = await db.executeQuery(CompiledQuery.raw(variant === "with" ? POSTGRES_MARK_PAID : without, params));
    return result.rows.length;
  };
}

const ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A unique evt_ id for the i-th transition (24 characters, as the API's). */
export function benchEventId(index: number): string {
  let out = "";
  let n = index;
  for (let i = 0; i < 24; i++) {
    out = (ID_ALPHABET[n % ID_ALPHABET.length] ?? "0") + out;
    n = Math.floor(n / ID_ALPHABET.length);
  }
  return `evt_${out}`;
}

/** The paid transition of the i-th seeded order as the notify path builds it; its event's payload is a real one the API wrote, re-addressed. */
export function paidTransition(index: number, template: StoredWebhookEvent, at: string): PaidTransition {
  const total = totalFeeAt(index);
  const orderId = orderIdAt(index);
  const eventId = benchEventId(index);
  return {
    orderId,
    source: "notify",
    transactionId: transactionIdAt(index),
    totalFee: total,
    feeType: "CNY",
    cashFee: total,
    cashFeeType: "CNY",
    raw: JSON.stringify(payNotifyFields(index)),
    at,
    eventId,
    eventPayload: template.payload.split(template.orderId).join(orderId).replace(template.id, eventId),
  };
}

/** CPU seconds (user + system) of this process. */
function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Where a comparison runs: a fresh database with the API's schema and `pending` pending orders. */
interface Bench {
  readonly run: BatchRunner;
  /** Rows in the outbox: one per transition committed with the outbox statement, none for the others. */
  readonly countOutbox: () => Promise<number>;
  readonly cpuSeconds: () => number;
  close(): Promise<void>;
}

async function openBench(dialect: Dialect, pending: number, postgres: () => Promise<BenchPostgres>): Promise<Bench> {
  let dir: string | undefined;
  let url: string;
  let serverCpu = (): number => 0;
  if (dialect === "sqlite") {
    dir = mkdtempSync(join(tmpdir(), "pay-bench-outbox-"));
    url = join(dir, "outbox.sqlite");
  } else {
    const server = await postgres();
    url = await server.createDatabase(`outbox_cost_${Date.now()}`);
    serverCpu = () => server.cpuSeconds();
  }
  let opened: OpenedDatabase | undefined;
  let seed: SeedDatabase | undefined;
  try {
    opened = await openDatabase(url);
    await migrateToLatest(opened.db);
    const user = { id: "U-outbox-cost", openid: "o-outbox-cost" };
    await opened.db.insertInto("users").values({ id: user.id, openid: user.openid, created_at: new Date().toISOString() }).execute();
    seed = dialect === "sqlite" ? openSqliteSeed(url) : await openPostgresSeed(url);
    await seed.insertOrders({ from: 0, count: pending, kind: "pending", users: [user] });
    await seed.settle();
  } catch (error) {
    await seed?.close();
    await opened?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const db = opened;
  const seeded = seed;
  return {
    run: dialect === "sqlite" ? sqliteRunner(db.db) : postgresRunner(db.db),
    countOutbox: () => seeded.countWebhookEvents(),
    cpuSeconds: () => ownCpuSeconds() + serverCpu(),
    async close() {
      await seeded.close();
      await db.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs the comparison on one database: each round commits `batches` batches of fresh pending orders with the
 * outbox statement and as many without (in an order rotated per round); CPU per transition per variant.
 */
export async function measureOutboxCost(dialect: Dialect, template: StoredWebhookEvent, options: OutboxCostOptions, postgres: () => Promise<BenchPostgres>): Promise<OutboxCost> {
  const perVariant = options.batches * options.batchSize;
  const totalRounds = options.warmupRounds + options.rounds;
  const bench = await openBench(dialect, perVariant * 2 * totalRounds, postgres);
  try {
    let next = 0;
    const samples: Record<Variant, number[]> = { with: [], without: [] };
    const differences: number[] = [];
    for (let round = 0; round < totalRounds; round++) {
      const micros: Partial<Record<Variant, number>> = {};
      for (const variant of rotated(["with", "without"] as const, round)) {
        const at = new Date().toISOString();
        const batches = Array.from({ length: options.batches }, () => Array.from({ length: options.batchSize }, () => paidTransition(next++, template, at)));
        const before = bench.cpuSeconds();
        let moved = 0;
        for (const batch of batches) moved += await bench.run(batch, variant);
        const spent = bench.cpuSeconds() - before;
        if (moved !== perVariant) throw new Error(`The outbox comparison on ${dialect} moved ${moved} of ${perVariant} orders.`);
        micros[variant] = (spent * 1e6) / perVariant;
      }
      if (round < options.warmupRounds) continue;
      samples.with.push(micros.with ?? Number.NaN);
      samples.without.push(micros.without ?? Number.NaN);
      differences.push((micros.with ?? Number.NaN) - (micros.without ?? Number.NaN));
    }
    const outbox = await bench.countOutbox();
    if (outbox !== perVariant * totalRounds)
      throw new Error(`The outbox comparison on ${dialect} left ${outbox} outbox rows, expected ${perVariant * totalRounds} (one per transition with the statement).`);
    return {
      dialect,
      withOutboxMicros: median(samples.with),
      withoutOutboxMicros: median(samples.without),
      outboxMicros: median(differences),
      transitionsPerVariant: perVariant * options.rounds,
    };
  } finally {
    await bench.close();
  }
}
