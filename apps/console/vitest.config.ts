import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [react()],
  test: {
    // Unit tests beside the code, in a simulated DOM; the Chromium end-to-end suites under test/e2e have their own entry.
    include: ["src/**/*.test.{ts,tsx}"],
    exclude: ["test/e2e/**", "**/node_modules/**", "**/dist/**"],
    environment: "happy-dom",
    testTimeout: 15_000,
    reporters: ["default", ["json", { outputFile: ".reports/vitest.json" }]],
  },
});
