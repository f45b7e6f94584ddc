// Which APIs and rows a notify run measures (`--contenders`, `--baseline`), and the targets' text.
import { describe, expect, it } from "vitest";
import { notifyRowName, notifyTargetsText, planNotifyApis } from "./notify.js";

function rows(plans: ReturnType<typeof planNotifyApis>): string[] {
  return plans.flatMap((p) => p.kinds.map((kind) => notifyRowName(p.label, kind)));
}

describe("planNotifyApis", () => {
  it("runs every API and both rows of each without a filter, v2 then APIv3 per database", () => {
    const plans = planNotifyApis(undefined, undefined);
    expect(plans.map((p) => [p.dialect, p.protocol, p.instance])).toEqual([
      ["sqlite", "v2", "notify-sqlite"],
      ["sqlite", "v3", "notify-v3-sqlite"],
      ["postgres", "v2", "notify-postgres"],
      ["postgres", "v3", "notify-v3-postgres"],
    ]);
    expect(rows(plans)).toEqual([
      "@pay/api on SQLite: distinct notifies, each pays an order",
      "@pay/api on SQLite: duplicates of one paid order",
      "@pay/api on SQLite, APIv3: distinct notifies, each pays an order",
      "@pay/api on SQLite, APIv3: duplicates of one paid order",
      "@pay/api on PostgreSQL: distinct notifies, each pays an order",
      "@pay/api on PostgreSQL: duplicates of one paid order",
      "@pay/api on PostgreSQL, APIv3: distinct notifies, each pays an order",
      "@pay/api on PostgreSQL, APIv3: duplicates of one paid order",
    ]);
  });

  it("adds the baseline build beside each database's v2 API", () => {
    const plans = planNotifyApis("/old/apps/api/dist/index.js", undefined);
    const baselines = plans.filter((p) => p.baselineModule !== undefined);
    expect(baselines.map((p) => [p.label, p.instance, p.protocol, p.baselineModule])).toEqual([
      ["@pay/api baseline on SQLite", "notify-baseline-sqlite", "v2", "/old/apps/api/dist/index.js"],
      ["@pay/api baseline on PostgreSQL", "notify-baseline-postgres", "v2", "/old/apps/api/dist/index.js"],
    ]);
    expect(plans).toHaveLength(6);
  });

  it("keeps only the rows --contenders names, and leaves out an API none of whose rows is kept", () => {
    expect(rows(planNotifyApis(undefined, ["SQLite: distinct"]))).toEqual(["@pay/api on SQLite: distinct notifies, each pays an order"]);
    const v3 = planNotifyApis(undefined, ["apiv3"]);
    expect(v3.map((p) => [p.dialect, p.protocol, p.kinds])).toEqual([
      ["sqlite", "v3", ["distinct", "duplicates"]],
      ["postgres", "v3", ["distinct", "duplicates"]],
    ]);
    expect(rows(planNotifyApis("/old/index.js", ["baseline on PostgreSQL", "PostgreSQL: dup"]))).toEqual([
      "@pay/api on PostgreSQL: duplicates of one paid order",
      "@pay/api baseline on PostgreSQL: distinct notifies, each pays an order",
      "@pay/api baseline on PostgreSQL: duplicates of one paid order",
    ]);
    expect(planNotifyApis(undefined, ["MySQL"])).toEqual([]);
  });
});

describe("notifyTargetsText", () => {
  it("states issue 20's bounds, and no longer the old throughput targets", () => {
    const text = notifyTargetsText();
    for (const bound of [
      "0.60x tenpay's middleware (c) on SQLite and 0.80x on PostgreSQL",
      "3.50x the body-read ceiling (b) on SQLite",
      "0.33x (c) on SQLite and 0.40x on PostgreSQL",
    ]) {
      expect(text).toContain(bound);
    }
    expect(text).toContain("one bare RSA-2048 verification and one bare AES-256-GCM decryption");
    expect(text).not.toContain(">=");
  });
});
