import { defineConfig } from "vitest/config";

// The bench's own tests (never the benchmarks themselves, which `pnpm bench` runs).
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // Starts a throwaway PostgreSQL for the run (unless PAY_TEST_POSTGRES_URL is set); each suite creates its own databases on it.
    globalSetup: ["@pay/test-kit/postgres/vitest"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    reporters: ["default", ["json", { outputFile: ".reports/vitest.json" }]],
  },
});
