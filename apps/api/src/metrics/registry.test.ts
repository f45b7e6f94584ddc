import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { openTestDatabase } from "../../test/support/databases.js";
import { createMetrics } from "./registry.js";

describe("the metrics registry", () => {
  it("documents every pay_ metric in docs/console-metrics.md and the Grafana dashboard uses only real ones", async () => {
    const database = await openTestDatabase("sqlite");
    try {
      const metrics = createMetrics({ db: database.db, clock: () => 0, processMetrics: false });
      const names = (await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name).sort();
      const docs = readFileSync(new URL("../../../../docs/console-metrics.md", import.meta.url), "utf8");
      const documented = [...docs.matchAll(/^\| `(pay_[a-z_]+)` \|/gm)].map((match) => match[1]).sort();
      expect(documented).toEqual(names);
      const dashboard = readFileSync(new URL("../../../../docs/grafana-dashboard.json", import.meta.url), "utf8");
      const used = new Set([...dashboard.matchAll(/pay_[a-z_]+/g)].map((match) => match[0].replace(/_(bucket|count|sum)$/, "")));
      for (const name of used) expect(names).toContain(name);
      expect(used.size).toBe(names.length);
    } finally {
      await database.close();
    }
  });
});
