import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Starts a throwaway PostgreSQL for the run (unless PAY_TEST_POSTGRES_URL is set); each suite creates its own databases on it.
    globalSetup: ["@pay/test-kit/postgres/vitest"],
    testTimeout: 20_000,
    // Creating and migrating a fresh database per suite, and starting the server, take longer than a test.
    hookTimeout: 60_000,
    reporters: ["default", ["json", { outputFile: ".reports/vitest.json" }]],
  },
});
