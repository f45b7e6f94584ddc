import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // The kit's own glue starts the run's PostgreSQL server, as it does for the API's tests.
    globalSetup: ["./src/postgres/vitest.ts"],
    // Starting a PostgreSQL server (initdb + pg_ctl) takes a few seconds.
    testTimeout: 60_000,
    reporters: ["default", ["json", { outputFile: ".reports/vitest.json" }]],
  },
});
