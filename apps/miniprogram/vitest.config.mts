import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Compiles the mini-program once per run; page and end-to-end tests load that build output.
    globalSetup: ["./test/global-setup.ts"],
    testTimeout: 30_000,
    // The end-to-end suites start the sandbox and the API (migrations on a fresh SQLite file) first.
    hookTimeout: 60_000,
    reporters: ["default", ["json", { outputFile: ".reports/vitest.json" }]],
  },
});
