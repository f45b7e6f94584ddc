// PostgreSQL for the bench: @pay/test-kit's throwaway server (initdb + pg_ctl, as the postgres OS
// user when we are root), plus what the bench measures of it: the CPU time it spends.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startPostgres as startThrowawayPostgres } from "@pay/test-kit/postgres";
import { childPids, processCpuSeconds } from "./cpu.js";

export { postgresVersion } from "@pay/test-kit/postgres";

/** A running server; `createDatabase` makes a fresh database on it. */
export interface BenchPostgres {
  /** The maintenance database's URL. */
  readonly url: string;
  /**
   * CPU seconds the whole server has used: the postmaster, its live children (backends, WAL writer, ...) and
   * those that ended (the pool closes idle connections, and their backends exit).
   */
  cpuSeconds(): number;
  /** A new empty database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL on a free port of 127.0.0.1. `synchronous_commit=off` is the counterpart of the
 * API's SQLite setting (WAL with synchronous=NORMAL): neither waits for a disk flush per commit.
 * fsync stays on, as in a deployment.
 */
export async function startPostgres(): Promise<BenchPostgres> {
  const server = await startThrowawayPostgres({ prefix: "pay-bench-pg-", settings: { synchronous_commit: "off" } });
  return {
    url: server.url,
    cpuSeconds() {
      const postmaster = Number(readFileSync(join(server.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
      return childPids(postmaster).reduce((sum, pid) => sum + processCpuSeconds(pid), processCpuSeconds(postmaster, true));
    },
    async createDatabase(name) {
      return (await server.createDatabase(name)).url;
    },
    stop: () => server.stop(),
  };
}
