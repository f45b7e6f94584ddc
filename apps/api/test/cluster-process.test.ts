// API_WORKERS=2 starting and stopping as real processes: a worker that cannot start stops the whole start (exit 1,
// no restart loop), and a second SIGTERM does not wait for a request in flight (workers killed, exit 1).
import { spawn } from "node:child_process";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileApi, sandboxApiEnv, startApiProcess, type ApiBuild } from "./reliability/api-process.js";
import { openTestDatabase, type TestDatabase } from "./support/databases.js";

let build: ApiBuild;
let database: TestDatabase;
beforeAll(async () => {
  build = await compileApi();
  database = await openTestDatabase("sqlite");
}, 120_000);

afterAll(async () => {
  await database.close();
});

function env(extra: Readonly<Record<string, string>>): Record<string, string> {
  return sandboxApiEnv({ databaseUrl: database.url, sandboxUrl: "http://127.0.0.1:9", notifyBaseUrl: "http://127.0.0.1:9", extra: { API_WORKERS: "2", ...extra } });
}

describe("API_WORKERS=2 processes", () => {
  it("a worker that cannot listen (the port is taken) stops the start: the primary exits 1 without restarting it", async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const child = spawn(process.execPath, [build.main], { env: { PATH: process.env.PATH ?? "", ...env({ PORT: String(port) }) }, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
      const code = await new Promise<number | null>((resolve) => child.once("exit", (exitCode) => resolve(exitCode)));
      expect(code, output).toBe(1);
      const lines = output
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { msg: string; role?: string });
      expect(lines.some((line) => line.msg === "a worker could not start: stopping" && line.role === "primary")).toBe(true);
      expect(lines.some((line) => line.msg === "worker died: restarting it")).toBe(false);
      expect(lines.some((line) => line.msg === "API listening")).toBe(false);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  }, 40_000);

  it("a second SIGTERM kills the workers at once: a request still in flight is cut, the primary exits 1", async () => {
    const api = await startApiProcess(build.main, env({}), 40_000);
    // A notify whose body never completes: the drain would wait for it (up to the 15 s request timeout).
    const target = new URL("/wxpay/notify", api.url);
    const cut = new Promise<string>((resolve) => {
      const req = httpRequest(
        { host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: { "content-type": "text/xml", "content-length": 1000 } },
        (res) => resolve(`answered ${res.statusCode}`),
      );
      req.on("error", (error: NodeJS.ErrnoException) => resolve(`cut ${error.code ?? error.message}`));
      req.write("<xml>");
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    process.kill(api.pid, "SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.kill(api.pid, "SIGTERM");
    expect(await api.exited).toBe("1");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await cut).toMatch(/^cut /);
    const lines = api.output.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as { msg: string });
    expect(lines.map((line) => line.msg)).toEqual(expect.arrayContaining(["draining workers", "stopping at once: killing the workers", "stopped"]));
  }, 60_000);
});
