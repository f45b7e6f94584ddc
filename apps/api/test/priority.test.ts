// API_WORKER_NICENESS's mechanism, lowerOwnPriority, in child processes of its own (it would lower the test
// runner's priority otherwise): every thread already running gets the new nice value, a thread started later
// inherits it, the value is capped at 19, and a bad niceness is refused before anything is changed.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { compileApi } from "./reliability/api-process.js";
import { threadNiceValues } from "./support/thread-nice.js";

let priorityModule: string;
beforeAll(async () => {
  priorityModule = pathToFileURL(join(dirname((await compileApi()).main), "priority.js")).href;
}, 120_000);

interface ChildReport {
  readonly before: number[];
  readonly results: unknown[];
  readonly after: number[];
  readonly lateThread: number[];
}

/**
 * Runs lowerOwnPriority(by) for each of `steps` in a fresh Node process that already has a worker thread running,
 * then starts another worker thread; reports every thread's nice value before, after, and once the late one runs.
 */
function runChild(steps: readonly unknown[]): Promise<ChildReport> {
  const script = `
    import { Worker } from "node:worker_threads";
    import { lowerOwnPriority } from ${JSON.stringify(priorityModule)};
    const stay = "import('node:worker_threads').then(({ parentPort }) => { parentPort.once('message', () => parentPort.close()); parentPort.postMessage('up'); });";
    const start = () => new Promise((resolve) => { const w = new Worker(stay, { eval: true }); w.once("message", () => resolve(w)); });
    const ask = () => new Promise((resolve) => { process.stdin.once("data", (line) => resolve(JSON.parse(String(line)))); process.stdout.write("ready\\n"); });
    const early = await start();
    const before = await ask();
    const results = [];
    for (const by of ${JSON.stringify(steps)}) {
      try { results.push(lowerOwnPriority(by)); } catch (error) { results.push({ error: error.name + ": " + error.message }); }
    }
    const after = await ask();
    const late = await start();
    const lateThread = await ask();
    early.postMessage("stop"); late.postMessage("stop");
    process.stdout.write(JSON.stringify({ before, results, after, lateThread }) + "\\n");
    process.stdin.destroy();
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr.on("data", (chunk: Buffer) => (err += String(chunk)));
    child.stdout.on("data", (chunk: Buffer) => {
      out += String(chunk);
      // Each "ready" asks the test to read the child's threads' nice values now, from outside.
      while (out.includes("ready\n")) {
        out = out.replace("ready\n", "");
        child.stdin.write(`${JSON.stringify(threadNiceValues(child.pid as number))}\n`);
      }
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`the child exited ${code}: ${err}`));
      else resolve(JSON.parse(out.trim()) as ChildReport);
    });
  });
}

describe("lowerOwnPriority", () => {
  it("sets every running thread of the process, and a thread started afterwards inherits it", async () => {
    const report = await runChild([5]);
    const base = report.before[0] as number;
    expect(new Set(report.before)).toEqual(new Set([base]));
    // The main thread, V8's and libuv's threads and the worker thread started before.
    expect(report.before.length).toBeGreaterThan(2);
    const expected = Math.min(19, base + 5);
    expect(report.results).toEqual([{ nice: expected, threads: report.before.length }]);
    expect(new Set(report.after)).toEqual(new Set([expected]));
    expect(report.lateThread.length).toBeGreaterThan(report.after.length);
    expect(new Set(report.lateThread)).toEqual(new Set([expected]));
  }, 30_000);

  it("adds to the nice value the process has, capped at 19", async () => {
    const report = await runChild([12, 12]);
    const base = report.before[0] as number;
    const first = Math.min(19, base + 12);
    expect(report.results).toEqual([
      { nice: first, threads: report.before.length },
      { nice: 19, threads: report.before.length },
    ]);
    expect(new Set(report.after)).toEqual(new Set([19]));
  }, 30_000);

  it("refuses a niceness that is not a whole number from 0 to 19, and changes nothing", async () => {
    const report = await runChild([-1, 20, 2.5, "3"]);
    expect(report.results).toEqual([
      { error: "RangeError: a niceness is a whole number from 0 to 19, not -1" },
      { error: "RangeError: a niceness is a whole number from 0 to 19, not 20" },
      { error: "RangeError: a niceness is a whole number from 0 to 19, not 2.5" },
      { error: "RangeError: a niceness is a whole number from 0 to 19, not 3" },
    ]);
    expect(report.after).toEqual(report.before);
  }, 30_000);
});
