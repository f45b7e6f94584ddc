import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { buildMiniProgram } from "../scripts/build.mjs";

const API_BASE_URL = "https://pay.example.test";

/** Builds once per run, into a temporary folder, so tests never depend on (or overwrite) dist/. */
export default async function setup(project: TestProject): Promise<() => void> {
  const root = mkdtempSync(join(tmpdir(), "pay-miniprogram-build-"));
  const built = await buildMiniProgram({ outDir: join(root, "dist"), apiBaseUrl: API_BASE_URL });
  project.provide("buildDir", built.outDir);
  project.provide("buildApiBaseUrl", built.apiBaseUrl);
  return () => rmSync(root, { recursive: true, force: true });
}
