import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { readFile, mkdtemp, rm, stat } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CliError, runCli } from "./cli.js";
import { createSandboxControlClient } from "./control/client.js";
import { SANDBOX_CONTROL_PATHS } from "./control/routes.js";
import type { RunningSandbox } from "./server.js";
import { V3_CERTIFICATE, V3_DIRECT } from "@pay/test-kit/merchants";

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

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sandbox-cli-"));
  dirs.push(dir);
  return dir;
}

/** How many times `needle` occurs in `text`. */
function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
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

  it("starts the demo merchant as v2 + v3 with --v3, writes its key files and lists them in the banner without a private key", async () => {
    const dir = await tempDir();
    const out = capture();
    let n = 0;
    const sandbox = await start(["--port", "0", "--v3", "--v3-key-mode", "migration", "--v3-keys-dir", join(dir, "keys"), "--signature-probe"], {
      stdout: out,
      newSecret: () => `${"Q".repeat(31)}${++n}`,
    });
    const identity = sandbox.context.v3.get("1900000001");
    if (identity === undefined) throw new Error("the demo merchant has no v3 identity");
    expect(identity.keyMode).toBe("migration");
    expect(identity.apiV3Key).toBe(`${"Q".repeat(31)}3`);
    const merchants = await createSandboxControlClient({ baseUrl: sandbox.url }).listMerchants();
    expect(merchants.merchants).toEqual([expect.objectContaining({ mch_id: "1900000001", protocols: ["v2", "v3"] })]);

    const folder = join(dir, "keys", "1900000001");
    const keyPem = await readFile(join(folder, "apiclient_key.pem"), "utf8");
    expect((await stat(join(folder, "apiclient_key.pem"))).mode & 0o777).toBe(0o600);
    const certificate = new X509Certificate(await readFile(join(folder, "apiclient_cert.pem"), "utf8"));
    expect(certificate.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    const platformSerial = identity.platformCertificates[0]?.serial ?? "";
    const platform = new X509Certificate(await readFile(join(folder, `wechatpay_${platformSerial}.pem`), "utf8"));
    expect(platform.serialNumber.toUpperCase()).toBe(platformSerial);
    expect(createPublicKey(await readFile(join(folder, "wxp_pub.pem"), "utf8")).equals(createPublicKey(identity.publicKey?.privateKey ?? ""))).toBe(true);

    const banner = out.text();
    expect(banner).toContain("appid wx0000sandbox0001  mch_id 1900000001  profile domestic  v2 + v3");
    expect(banner).toContain(`APIv3 merchants (key files in ${join(dir, "keys")}):`);
    expect(banner).toContain("mchid 1900000001  key mode migration");
    expect(banner).toMatch(new RegExp(`merchant serial_no +${identity.merchantCertificate.serial}`));
    expect(banner).toMatch(new RegExp(`public key ID +${identity.publicKey?.id}`));
    expect(banner).toMatch(new RegExp(`platform certificates +${platformSerial}`));
    for (const name of ["apiclient_key.pem", "apiclient_cert.pem", "wxp_pub.pem", "pub_key_id.txt", `wechatpay_${platformSerial}.pem`, "merchant.json", "README.txt"]) {
      expect(banner).toContain(`      ${join(folder, name)}\n`);
    }
    expect(count(banner, identity.apiV3Key)).toBe(1);
    expect(banner).not.toContain("PRIVATE KEY");
    expect(banner).not.toContain(keyPem.split("\n")[1]);
    expect(banner).toContain(`/v3/pay/transactions/jsapi`);
    expect(banner).toContain("/v3/billdownload/file");
    expect(banner).toMatch(/WECHATPAY\/SIGNTEST\/ signature \(--signature-probe\)/);
    expect(banner).toMatch(/v3 notifies: +https:\/\/ notify URLs only/);
  });

  it("starts v2-only, v3-only and v2 + v3 merchants from a config file, printing each key where it has one", async () => {
    const dir = await tempDir();
    const v2Only = { appId: "wx1111111111111111", mchId: "1230000109", key: "k".repeat(32) };
    const config = { merchants: [v2Only, V3_DIRECT, V3_CERTIFICATE], v3KeysDir: join(dir, "from-config"), allowHttpNotifyUrl: false };
    const out = capture();
    const sandbox = await start(["--port", "0", "--config", "c.json", "--allow-http-notify-url", "--no-client-cert"], { stdout: out, readFile: () => JSON.stringify(config) });
    expect(sandbox.context.options.allowHttpNotifyUrl).toBe(true);
    expect(sandbox.v3KeyFiles?.dir).toBe(join(dir, "from-config"));

    const banner = out.text();
    expect(banner).toContain(`appid ${v2Only.appId}  mch_id ${v2Only.mchId}  profile domestic  v2\n    key         ${"k".repeat(32)}`);
    expect(banner).toContain(`appid ${V3_DIRECT.appId}  mch_id ${V3_DIRECT.mchId}  profile domestic  v3\n`);
    expect(banner).not.toContain("undefined");
    expect(banner).toContain(`mchid ${V3_DIRECT.mchId}  key mode public-key`);
    expect(banner).toContain(`mchid ${V3_CERTIFICATE.mchId}  key mode platform-certificate`);
    expect(count(banner, V3_DIRECT.v3.apiV3Key)).toBe(1);
    expect(count(banner, V3_CERTIFICATE.v3.apiV3Key)).toBe(1);
    const certificateMerchant = sandbox.context.v3.get(V3_CERTIFICATE.mchId);
    expect(banner).toContain(`wechatpay_${certificateMerchant?.platformCertificates[0]?.serial}.pem`);
    expect(banner).not.toContain(join(dir, "from-config", V3_DIRECT.mchId, "wechatpay_"));
    expect(banner).toMatch(/v3 notifies: +http:\/\/ notify URLs accepted/);
    expect(banner).toMatch(/v3 refunds need none/);
  });

  it("throws a USAGE CliError for a bad v3 flag before starting anything", async () => {
    const out = capture();
    await expect(runCli(["--v3", "--v3-key-mode", "rsa"], { stdout: out })).rejects.toMatchObject({
      name: "CliError",
      code: "USAGE",
      message: expect.stringContaining("--v3-key-mode") as unknown,
    });
    expect(out.text()).toBe("");
  });

  it("lists the v3 flags and endpoints in the help", async () => {
    const out = capture();
    await runCli(["--help"], { stdout: out });
    for (const flag of ["--v3 ", "--v3-key-mode", "--v3-keys-dir", "--allow-http-notify-url", "--signature-probe"]) expect(out.text()).toContain(flag);
    expect(out.text()).toMatch(/APIv2 and APIv3/);
    expect(out.text()).toMatch(/v3: JSAPI orders/);
  });
});
