import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface PackedPackage {
  /** Paths inside the tarball, without the leading `package/`. */
  readonly files: readonly string[];
  /** The package.json as published (workspace: and catalog: ranges replaced by pnpm). */
  readonly manifest: Record<string, unknown>;
}

/** Packs a workspace package with pnpm, exactly as `pnpm publish` would, and reads the tarball back. */
export function packPackage(dir: string): PackedPackage {
  const out = mkdtempSync(join(tmpdir(), "pay-pack-"));
  try {
    execFileSync("npx", ["-y", "pnpm@10.34.9", "pack", "--pack-destination", out], { cwd: dir, stdio: "pipe" });
    const tarball = readdirSync(out).find((f) => f.endsWith(".tgz"));
    if (tarball === undefined) throw new Error(`pnpm pack wrote no tarball for ${dir}`);
    const path = join(out, tarball);
    const files = execFileSync("tar", ["-tzf", path], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ""));
    const manifest = JSON.parse(execFileSync("tar", ["-xzOf", path, "package/package.json"], { encoding: "utf8" })) as Record<string, unknown>;
    return { files, manifest };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
