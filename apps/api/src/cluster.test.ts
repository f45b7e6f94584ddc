import { describe, expect, it } from "vitest";
import { restartDecision, RESTART_POLICY, workerRoles } from "./cluster.js";
import { WORKER_ROLE_VARIABLE, workerRoleOf } from "./env.js";

describe("restartDecision", () => {
  it("waits 0.5 s, then twice as long for each quick death in a row, up to 30 s", () => {
    const delays: (number | undefined)[] = [];
    let quick = 0;
    for (let i = 0; i < RESTART_POLICY.maxQuickDeaths; i++) {
      const decision = restartDecision(quick, 1_000);
      quick = decision.quickDeaths;
      delays.push(decision.delayMs);
    }
    expect(delays).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });

  it("gives up after maxQuickDeaths quick deaths in a row: a crash loop does not spin", () => {
    expect(restartDecision(RESTART_POLICY.maxQuickDeaths, 10)).toEqual({ quickDeaths: RESTART_POLICY.maxQuickDeaths + 1, delayMs: undefined });
  });

  it("starts counting again after a worker that lived a minute", () => {
    expect(restartDecision(5, RESTART_POLICY.stableMs)).toEqual({ quickDeaths: 1, delayMs: 500 });
    expect(restartDecision(RESTART_POLICY.maxQuickDeaths, 3_600_000)).toEqual({ quickDeaths: 1, delayMs: 500 });
  });
});

describe("worker roles (NOTIFY_PORT)", () => {
  it("forks API_WORKERS API workers, and one notify worker only when NOTIFY_PORT is set", () => {
    expect(workerRoles({ workers: 2, notifyListener: undefined })).toEqual(["api", "api"]);
    expect(workerRoles({ workers: 1, notifyListener: { port: 3001, host: "127.0.0.1" } })).toEqual(["api", "notify"]);
    expect(workerRoles({ workers: 3, notifyListener: { port: 3001, host: "127.0.0.1" } })).toEqual(["api", "api", "api", "notify"]);
  });

  it("a worker is an API worker unless the primary named it the notify worker", () => {
    expect(workerRoleOf({})).toBe("api");
    expect(workerRoleOf({ [WORKER_ROLE_VARIABLE]: "api" })).toBe("api");
    expect(workerRoleOf({ [WORKER_ROLE_VARIABLE]: "notify" })).toBe("notify");
    expect(workerRoleOf({ [WORKER_ROLE_VARIABLE]: "NOTIFY " })).toBe("api");
  });
});
