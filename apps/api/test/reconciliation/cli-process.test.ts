// The reconcile CLI as a process: `node <build>/reconcile-cli.js`, as `pnpm --filter @pay/api reconcile` runs it.
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { EXIT } from "../../src/reconcile-cli.js";
import { compileApi } from "../reliability/api-process.js";

const execFileAsync = promisify(execFile);

describe("the built reconcile CLI", () => {
  it("runs as node dist/reconcile-cli.js and exits 2 on a usage error", async () => {
    const build = await compileApi();
    const cli = join(dirname(build.main), "reconcile-cli.js");
    const failure = await execFileAsync(process.execPath, [cli, "--date", "yesterday"], { env: { PATH: process.env.PATH ?? "" } }).then(
      () => undefined,
      (error: unknown) => error as { code: number; stderr: string; stdout: string },
    );
    expect(failure?.code).toBe(EXIT.usage);
    expect(failure?.stderr).toContain("reconcile: --date yesterday: expected a day as YYYY-MM-DD.");
    expect(failure?.stdout).toBe("");
  }, 120_000);
});
