import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The API serves the build at /console (apps/api/src/routes/console.ts), so every asset URL starts there.
// `vite` (dev server) sends /api to a local API (pnpm start's default port) so the console stays same-origin.
export default defineConfig({
  base: "/console/",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  server: { proxy: { "/api": "http://127.0.0.1:3000" } },
});
