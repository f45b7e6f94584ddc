import { getPriority } from "node:os";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { currentThreadId, setThreadNiceness } from "./thread-priority.js";

describe("thread priority", () => {
  it("names the main thread by the process id", () => {
    expect(currentThreadId()).toBe(process.pid);
  });

  it("lowers one thread's priority and leaves the process's other threads as they were", async () => {
    // A thread that reports its id and then waits to be told to end.
    const worker = new Worker(
      `const { parentPort } = require("node:worker_threads");
       const tid = Number(require("node:fs").readlinkSync("/proc/thread-self").split("/").pop());
       parentPort.postMessage(tid);
       parentPort.on("message", () => process.exit(0));`,
      { eval: true },
    );
    try {
      const tid = await new Promise<number>((resolve) => worker.once("message", resolve));
      expect(tid).not.toBe(process.pid);
      const before = getPriority();
      setThreadNiceness(tid, Math.max(before, 7));
      expect(getPriority(tid)).toBe(Math.max(before, 7));
      expect(getPriority()).toBe(before);
    } finally {
      await worker.terminate();
    }
  });

  it.each([-1, 20, 1.5, Number.NaN])("refuses a niceness of %s, naming it", (niceness) => {
    expect(() => setThreadNiceness(process.pid, niceness)).toThrow(`not ${niceness}`);
  });
});
