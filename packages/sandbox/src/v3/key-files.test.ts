import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateV3TestKeyPair } from "@pay/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { V3_CERTIFICATE, V3_DIRECT, V3_MIGRATING, v3Client } from "../../test/support/v3.js";
import { SANDBOX_CONTROL_PATHS } from "../control/routes.js";
import { RotateCertificateAnswerSchema } from "../control/schemas.js";
import { startSandbox, type RunningSandbox } from "../server.js";
import type { V3MerchantKeyFiles } from "./key-files.js";
import { rfc3339Beijing } from "./views.js";

/** A v3 merchant whose API key pair is its own: the sandbox knows only the public key and serial. */
const OWN_KEY = { appId: "wx3o0000000000v3o1", mchId: "1900300099", v3: { apiV3Key: "v3OwnKeyApiV3KeyForTests00000099", keyMode: "public-key" as const } };

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

function filesOf(sandbox: RunningSandbox, mchId: string): V3MerchantKeyFiles {
  const files = sandbox.v3KeyFiles?.merchants[mchId];
  if (files === undefined) throw new Error(`no key files for ${mchId}`);
  return files;
}

function pathOf(path: string | undefined): string {
  if (path === undefined) throw new Error("expected a file");
  return path;
}

describe("v3 key files", () => {
  let dir: string;
  let sandbox: RunningSandbox;
  const ownKey = generateV3TestKeyPair();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sandbox-v3-keys-"));
    // Leftovers of an earlier start: a stale private key and certificate in a folder the sandbox now writes, and a file of the user's.
    await mkdir(join(dir, OWN_KEY.mchId), { recursive: true });
    await writeFile(join(dir, OWN_KEY.mchId, "apiclient_key.pem"), "stale");
    await writeFile(join(dir, OWN_KEY.mchId, "wechatpay_5157F09EFDC096DE15EBE81A47057A7232F1B8E1.pem"), "stale");
    await writeFile(join(dir, OWN_KEY.mchId, "notes.txt"), "mine");
    sandbox = await startSandbox({
      merchants: [
        V3_DIRECT,
        V3_CERTIFICATE,
        V3_MIGRATING,
        { ...OWN_KEY, v3: { ...OWN_KEY.v3, merchantCertificate: { serial: "0A1B2C3D4E5F", publicKeyPem: ownKey.publicKeyPem } } },
      ],
      v3KeysDir: join(dir, "keys"),
    });
  });
  afterAll(async () => {
    await sandbox.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes apiclient_key.pem (0600) and apiclient_cert.pem, a matching pair whose serial is the merchant serial", async () => {
    const files = filesOf(sandbox, V3_DIRECT.mchId);
    expect(files.dir).toBe(join(dir, "keys", V3_DIRECT.mchId));
    expect(await modeOf(files.dir)).toBe(0o700);
    const keyPath = pathOf(files.merchantKey);
    expect(keyPath).toBe(join(files.dir, "apiclient_key.pem"));
    expect(await modeOf(keyPath)).toBe(0o600);
    const keyPem = await readFile(keyPath, "utf8");
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const privateKey = createPrivateKey(keyPem);
    const certificate = new X509Certificate(await readFile(pathOf(files.merchantCertificate), "utf8"));
    expect(await modeOf(pathOf(files.merchantCertificate))).toBe(0o644);
    expect(certificate.checkPrivateKey(privateKey)).toBe(true);
    expect(certificate.serialNumber.toUpperCase()).toBe(sandbox.context.v3.get(V3_DIRECT.mchId)?.merchantCertificate.serial);
  });

  it("writes the WeChat Pay public key and its ID in public-key mode, and no platform certificate", async () => {
    const files = filesOf(sandbox, V3_DIRECT.mchId);
    const identity = sandbox.context.v3.get(V3_DIRECT.mchId);
    const publicKey = createPublicKey(await readFile(pathOf(files.publicKey), "utf8"));
    expect(publicKey.equals(createPublicKey(identity?.publicKey?.privateKey ?? ""))).toBe(true);
    expect(await readFile(pathOf(files.publicKeyId), "utf8")).toBe(`${identity?.publicKey?.id}\n`);
    expect(files.platformCertificates).toEqual([]);
    expect((await readdir(files.dir)).sort()).toEqual(["README.txt", "apiclient_cert.pem", "apiclient_key.pem", "merchant.json", "pub_key_id.txt", "wxp_pub.pem"]);
  });

  it("writes the platform certificates as wechatpay_<serial>.pem in platform-certificate mode, and no public key", async () => {
    const files = filesOf(sandbox, V3_CERTIFICATE.mchId);
    const identity = sandbox.context.v3.get(V3_CERTIFICATE.mchId);
    const serial = identity?.platformCertificates[0]?.serial ?? "";
    expect(files.platformCertificates).toEqual([join(files.dir, `wechatpay_${serial}.pem`)]);
    const certificate = new X509Certificate(await readFile(files.platformCertificates[0] ?? "", "utf8"));
    expect(certificate.serialNumber.toUpperCase()).toBe(serial);
    expect(certificate.checkPrivateKey(identity?.platformCertificates[0]?.privateKey ?? createPrivateKey(""))).toBe(true);
    expect(files.publicKey).toBeUndefined();
    expect(files.publicKeyId).toBeUndefined();
  });

  it("writes both kinds in migration mode, and a merchant.json with the facts but no key", async () => {
    const files = filesOf(sandbox, V3_MIGRATING.mchId);
    const identity = sandbox.context.v3.get(V3_MIGRATING.mchId);
    expect(files.publicKey).toBeDefined();
    expect(files.platformCertificates).toHaveLength(1);
    const summaryText = await readFile(files.summary, "utf8");
    const certificate = identity?.platformCertificates[0];
    const { written_at: writtenAt, ...summary } = JSON.parse(summaryText) as Record<string, unknown>;
    expect(writtenAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
    expect(summary).toEqual({
      mchid: V3_MIGRATING.mchId,
      key_mode: "migration",
      merchant_serial_no: identity?.merchantCertificate.serial,
      merchant_private_key_file: "apiclient_key.pem",
      merchant_certificate_file: "apiclient_cert.pem",
      public_key_id: identity?.publicKey?.id,
      public_key_file: "wxp_pub.pem",
      platform_certificates: [
        {
          serial_no: certificate?.serial,
          effective_time: rfc3339Beijing(certificate?.effectiveAt ?? 0),
          expire_time: rfc3339Beijing(certificate?.expiresAt ?? 0),
          file: `wechatpay_${certificate?.serial}.pem`,
        },
      ],
    });
    const readme = await readFile(files.readme, "utf8");
    for (const text of [summaryText, readme]) {
      expect(text).not.toContain("PRIVATE KEY");
      expect(text).not.toContain(V3_MIGRATING.v3.apiV3Key);
    }
    expect(readme).toContain(`merchant ${V3_MIGRATING.mchId}`);
    expect(readme).toContain(identity?.publicKey?.id);
  });

  it("writes no key or certificate for a merchant whose key is its own, and removes the stale ones of an earlier start", async () => {
    const files = filesOf(sandbox, OWN_KEY.mchId);
    expect(files.merchantKey).toBeUndefined();
    expect(files.merchantCertificate).toBeUndefined();
    expect(JSON.parse(await readFile(files.summary, "utf8"))).toMatchObject({
      merchant_serial_no: "0A1B2C3D4E5F",
      merchant_private_key_file: null,
      merchant_certificate_file: null,
    });
    expect(await readFile(files.readme, "utf8")).toContain("0A1B2C3D4E5F");
    // The stale files were in <dir>/<mchid>, not <dir>/keys/<mchid>: start a second sandbox writing there.
    const second = await startSandbox({
      merchants: [{ ...OWN_KEY, v3: { ...OWN_KEY.v3, merchantCertificate: { serial: "0A1B2C3D4E5F", publicKeyPem: ownKey.publicKeyPem } } }],
      v3KeysDir: dir,
    });
    try {
      expect((await readdir(join(dir, OWN_KEY.mchId))).sort()).toEqual(["README.txt", "merchant.json", "notes.txt", "pub_key_id.txt", "wxp_pub.pem"]);
      expect(await readFile(join(dir, OWN_KEY.mchId, "notes.txt"), "utf8")).toBe("mine");
    } finally {
      await second.stop();
    }
  });

  it("writes the new platform certificate after a rotation and keeps the retiring one while it overlaps", async () => {
    const before = filesOf(sandbox, V3_CERTIFICATE.mchId).platformCertificates;
    const response = await fetch(`${sandbox.url}${SANDBOX_CONTROL_PATHS.rotateV3Certificate}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mch_id: V3_CERTIFICATE.mchId }),
    });
    expect(response.status).toBe(200);
    const rotated = RotateCertificateAnswerSchema.parse(await response.json());
    await sandbox.v3KeyFilesWritten();
    const files = filesOf(sandbox, V3_CERTIFICATE.mchId);
    const newest = join(files.dir, `wechatpay_${rotated.serial_no}.pem`);
    expect(files.platformCertificates).toEqual([...before, newest]);
    expect(new X509Certificate(await readFile(newest, "utf8")).serialNumber.toUpperCase()).toBe(rotated.serial_no);
    const summary = JSON.parse(await readFile(files.summary, "utf8")) as { platform_certificates: Array<{ serial_no: string }> };
    expect(summary.platform_certificates.map((c) => c.serial_no)).toEqual([...rotated.retiring.map((c) => c.serial_no), rotated.serial_no]);
  });

  it("writes the new platform certificate after a rotation injected in the middle of a run (X-Sandbox-Fault: rotate)", async () => {
    const client = v3Client(sandbox, V3_MIGRATING.mchId);
    const answer = await client.send({ target: "/v3/certificates", headers: { "x-sandbox-fault": "rotate" } });
    expect(answer.status).toBe(200);
    await sandbox.v3KeyFilesWritten();
    const newest = sandbox.context.v3.newestCertificate(client.identity, sandbox.context.clock.now());
    expect(answer.headers.get("wechatpay-serial")).toBe(newest?.serial);
    const files = filesOf(sandbox, V3_MIGRATING.mchId);
    expect(files.platformCertificates).toHaveLength(2);
    expect(files.platformCertificates.at(-1)).toBe(join(files.dir, `wechatpay_${newest?.serial}.pem`));
    expect(new X509Certificate(await readFile(files.platformCertificates.at(-1) ?? "", "utf8")).serialNumber.toUpperCase()).toBe(newest?.serial);
  });

  it("refuses a mchid that is not a safe folder name before listening", async () => {
    await expect(startSandbox({ merchants: [{ ...V3_DIRECT, mchId: "../escape" }], v3KeysDir: dir })).rejects.toThrow(/mchid "\.\.\/escape" is not a safe folder name/);
    expect(await readdir(dir)).not.toContain("escape");
  });

  it("writes nothing without v3KeysDir", async () => {
    const plain = await startSandbox({ merchants: [V3_DIRECT] });
    try {
      expect(plain.v3KeyFiles).toBeUndefined();
      await expect(plain.v3KeyFilesWritten()).resolves.toBeUndefined();
    } finally {
      await plain.stop();
    }
  });
});
