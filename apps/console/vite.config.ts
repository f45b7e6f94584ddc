import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The API serves the build at /console (apps/api/src/routes/console.ts), so every asset URL starts there.
export default defineConfig({
  base: "/console/",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
});
