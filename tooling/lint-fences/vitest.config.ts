import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // Loading the workspace's ESLint configuration (typescript-eslint included) takes a few seconds.
    testTimeout: 30_000,
    reporters: ["default", ["json", { outputFile: ".reports/vitest.json" }]],
  },
});
