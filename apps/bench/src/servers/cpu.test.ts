import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { childPids, processEnvironmentValue } from "./cpu.js";

describe("processEnvironmentValue", () => {
  it("reads one variable of another process's environment, and nothing for a variable it lacks or a process that is gone", async () => {
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 10_000)"], { env: { PAY_PROBE: "notify", PAY_PROBE_2: "a=b" } });
    try {
      const pid = child.pid as number;
      expect(processEnvironmentValue(pid, "PAY_PROBE")).toBe("notify");
      // Only the first "=" separates the name.
      expect(processEnvironmentValue(pid, "PAY_PROBE_2")).toBe("a=b");
      // A name that is a prefix of another is not matched by it.
      expect(processEnvironmentValue(pid, "PAY_PROB")).toBeUndefined();
      expect(childPids(process.pid)).toContain(pid);
    } finally {
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    expect(processEnvironmentValue(2 ** 22 + 7, "PAY_PROBE")).toBeUndefined();
  });
});
