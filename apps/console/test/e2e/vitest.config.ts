import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The console's end-to-end suites: real headless Chromium on the built console, served by the real API
// (startApi) against the sandbox. Run from apps/console with `vitest run -c test/e2e/vitest.config.ts`; the
// unit tests' config (vitest.config.ts) leaves test/e2e/** out. Each file starts its own stack and browser.
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["test/e2e/**/*.test.ts"],
    environment: "node",
    // Each file runs a sandbox, an API and a Chromium: two at once is what two cores take.
    maxWorkers: 2,
    testTimeout: 30_000,
    // Starting the stack (migrations on a fresh database) and Chromium, and making each file's data.
    hookTimeout: 60_000,
    reporters: ["default", ["json", { outputFile: ".reports/vitest-e2e.json" }]],
  },
});
