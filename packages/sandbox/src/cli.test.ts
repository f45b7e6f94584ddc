import { readFile, mkdtemp, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CliError, runCli } from "./cli.js";
import { createSandboxControlClient } from "./control/client.js";
import { SANDBOX_CONTROL_PATHS } from "./control/routes.js";
import type { RunningSandbox } from "./server.js";

function capture() {
  let text = "";
  return {
    write: (chunk: string) => (text += chunk),
    text: () => text,
  };
}

const running: RunningSandbox[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function start(argv: string[], io: Parameters<typeof runCli>[1]): Promise<RunningSandbox> {
  const sandbox = await runCli(argv, io);
  if (sandbox === undefined) throw new Error("runCli did not start a sandbox");
  running.push(sandbox);
  return sandbox;
}

function httpsGetJson(url: string, ca: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    request(url, { ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8"))));
      res.on("error", reject);
    })
      .on("error", reject)
      .end();
  });
}

describe("runCli", () => {
  it("starts the demo merchant over HTTP and prints the banner with its secrets once", async () => {
    const out = capture();
    const sandbox = await start(["--port", "0"], { stdout: out, newSecret: () => "Z".repeat(32) });
    expect(sandbox.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const merchants = await createSandboxControlClient({ baseUrl: sandbox.url }).listMerchants();
    expect(merchants.merchants).toEqual([expect.objectContaining({ appid: "wx0000sandbox0001", mch_id: "1900000001" })]);

    const banner = out.text();
    expect(banner).toContain(`listening on ${sandbox.url}`);
    expect(banner).toContain("appid wx0000sandbox0001  mch_id 1900000001  profile domestic");
    expect(banner.split("Z".repeat(32))).toHaveLength(3); // the key and the app secret, each once
    expect(banner).toContain(`${sandbox.url}${SANDBOX_CONTROL_PATHS.cashier}?prepay_id=<prepay_id>`);
    expect(banner).toContain(`POST   ${SANDBOX_CONTROL_PATHS.pay}`);
    expect(banner).toMatch(/Refunds: .*plain HTTP/);
  });

  it("serves HTTPS with a written PKI for every configured mch_id", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sandbox-cli-"));
    dirs.push(dir);
    const config = { merchants: [{ appId: "wx1111111111111111", mchId: "1230000109", key: "k".repeat(32), subMchId: "sub1" }] };
    const out = capture();
    const sandbox = await start(["--port", "0", "--https", "--pki-dir", join(dir, "pki"), "--config", "c.json"], {
      stdout: out,
      readFile: () => JSON.stringify(config),
    });
    expect(sandbox.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const caPath = join(dir, "pki", "ca.pem");
    const body = await httpsGetJson(`${sandbox.url}${SANDBOX_CONTROL_PATHS.merchants}`, await readFile(caPath, "utf8"));
    expect(body).toEqual({ merchants: [expect.objectContaining({ mch_id: "1230000109", sub_mch_id: "sub1" })] });
    expect(out.text()).toContain(caPath);
    expect(out.text()).toContain(join(dir, "pki", "1230000109", "apiclient_cert.p12"));
    expect(out.text()).toContain("sub_mch_id sub1");
  });

  it("prints the help without starting anything", async () => {
    const out = capture();
    await expect(runCli(["--help"], { stdout: out })).resolves.toBeUndefined();
    expect(out.text()).toMatch(/^Usage: pay-sandbox/);
  });

  it("throws a coded CliError for a bad command line or config", async () => {
    const out = capture();
    await expect(runCli(["--port", "x"], { stdout: out })).rejects.toMatchObject({ name: "CliError", code: "USAGE" });
    const bad = runCli(["--config", "c.json"], { stdout: out, readFile: () => '{"merchants":[{"appId":"wx1","mchId":"1"}]}' });
    await expect(bad).rejects.toBeInstanceOf(CliError);
    await expect(bad).rejects.toMatchObject({ code: "CONFIG" });
    await expect(bad).rejects.toThrow(/merchants\.0\.key/);
    expect(out.text()).toBe("");
  });
});
