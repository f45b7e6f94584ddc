import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createV3Signer, decryptV3Certificates } from "@pay/core";
import { createV3TestCertificate, generateV3TestKeyPair } from "@pay/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManualClock } from "../clock.js";
import { SandboxControlError } from "../control/client.js";
import { startSandbox, type RunningSandbox } from "../server.js";
import { controlOf, waitFor } from "../../test/support/harness.js";
import { seedPaidV3Order, startV3Receiver, V3_CERTIFICATE, V3_DIRECT, V3_MIGRATING, v3Client, v3ClientWith, type V3Answer } from "../../test/support/v3.js";

const NO_PLATFORM_CERTIFICATES =
  "无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。可查看指引https://pay.weixin.qq.com/docs/merchant/products/platform-certificate/wxp-pub-key-guide.html";

const HOUR = 3600_000;

function serialOf(answer: V3Answer): string | null {
  return answer.headers.get("wechatpay-serial");
}

describe("v3 key modes", () => {
  let sandbox: RunningSandbox;
  const clock = createManualClock();
  beforeAll(async () => {
    sandbox = await startSandbox({ clock, merchants: [V3_DIRECT, V3_CERTIFICATE, V3_MIGRATING] });
  });
  afterAll(() => sandbox.stop());

  it("public-key mode: /v3/certificates is 404 RESOURCE_NOT_EXISTS with the gateway's message, signed with the PUB_KEY_ID_ key", async () => {
    const client = v3Client(sandbox, V3_DIRECT.mchId);
    const answer = await client.send({ target: "/v3/certificates" });
    expect(answer.status).toBe(404);
    expect(answer.json).toEqual({ code: "RESOURCE_NOT_EXISTS", message: NO_PLATFORM_CERTIFICATES });
    expect(serialOf(answer)).toMatch(/^PUB_KEY_ID_\d{28}$/);
    expect(serialOf(answer)).toBe(client.identity.publicKey?.id);
    expect(client.verify(answer)).toMatchObject({ ok: true, value: { serial: client.identity.publicKey?.id } });
    expect(client.identity.platformCertificates).toEqual([]);
  });

  it("platform-certificate mode: lists the certificate encrypted with the APIv3 key, signed by it", async () => {
    const client = v3Client(sandbox, V3_CERTIFICATE.mchId);
    const answer = await client.send({ target: "/v3/certificates?algorithm_type=RSA" });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(answer.headers.get("request-id")).toMatch(/^[0-9A-F]+-0$/);
    expect(answer.headers.get("wechatpay-nonce")).toMatch(/^[0-9a-f]{32}$/);
    const [certificate] = client.identity.platformCertificates;
    expect(serialOf(answer)).toBe(certificate?.serial);
    expect(serialOf(answer)).toMatch(/^[0-9A-F]{40}$/);
    expect(client.verify(answer)).toMatchObject({ ok: true });
    const body = answer.json as { data: { encrypt_certificate: { associated_data: string; nonce: string; algorithm: string } }[] };
    expect(body.data[0]?.encrypt_certificate).toMatchObject({ algorithm: "AEAD_AES_256_GCM", associated_data: "certificate" });
    expect(body.data[0]?.encrypt_certificate.nonce).toMatch(/^[0-9a-f]{12}$/);
    const list = decryptV3Certificates(answer.text, { apiV3Key: V3_CERTIFICATE.v3.apiV3Key, now: clock.now() });
    if (!list.ok) throw new Error(list.error.message);
    expect(list.value.valid.map((c) => c.serial)).toEqual([certificate?.serial]);
    expect(decryptV3Certificates(answer.text, { apiV3Key: "k".repeat(32), now: clock.now() }).ok).toBe(false);
    // algorithm_type SM2: the sandbox has no SM2 certificates; anything else is a PARAM_ERROR.
    expect((await client.send({ target: "/v3/certificates?algorithm_type=SM2" })).json).toEqual({ data: [] });
    expect((await client.send({ target: "/v3/certificates?algorithm_type=ALL" })).json).toMatchObject({ data: [{ serial_no: certificate?.serial }] });
    const wrong = await client.send({ target: "/v3/certificates?algorithm_type=DSA" });
    expect(wrong.status).toBe(400);
    expect(wrong.json).toMatchObject({ code: "PARAM_ERROR", detail: { location: "query", value: "DSA" } });
  });

  it("migration: signs with the public key only when the request's Wechatpay-Serial names it", async () => {
    const client = v3Client(sandbox, V3_MIGRATING.mchId);
    const publicKeyId = client.identity.publicKey?.id;
    const certificateSerial = client.identity.platformCertificates.at(-1)?.serial;
    expect(publicKeyId).toMatch(/^PUB_KEY_ID_/);
    const bySerial = async (serial: string | undefined): Promise<string | null> => {
      const answer = await client.send({ target: "/v3/certificates", headers: serial === undefined ? {} : { "wechatpay-serial": serial } });
      expect(answer.status).toBe(200);
      expect(client.verify(answer).ok).toBe(true);
      return serialOf(answer);
    };
    expect(await bySerial(publicKeyId)).toBe(publicKeyId);
    expect(await bySerial(undefined)).toBe(certificateSerial);
    expect(await bySerial(certificateSerial)).toBe(certificateSerial);
    expect(await bySerial("PUB_KEY_ID_0000000000000000000000000001")).toBe(certificateSerial);
    // The list still has the platform certificate while the merchant migrates.
    const list = decryptV3Certificates((await client.send({ target: "/v3/certificates" })).text, { apiV3Key: V3_MIGRATING.v3.apiV3Key, now: clock.now() });
    expect(list.ok && list.value.valid.map((c) => c.serial)).toEqual([certificateSerial]);
  });

  it("GET /sandbox/v3/keys shows what the merchant downloads, and never a private key", async () => {
    const control = controlOf(sandbox);
    const direct = await control.v3Keys({ mch_id: V3_DIRECT.mchId });
    const identity = v3Client(sandbox, V3_DIRECT.mchId).identity;
    expect(direct).toMatchObject({ mch_id: V3_DIRECT.mchId, key_mode: "public-key", merchant_serial: identity.merchantCertificate.serial, platform_certificates: [] });
    expect(direct.public_key).toEqual({ id: identity.publicKey?.id, pem: identity.publicKey?.publicKeyPem });
    expect(direct.merchant_certificate_pem).toContain("-----BEGIN CERTIFICATE-----");
    const certificate = await control.v3Keys({ mch_id: V3_CERTIFICATE.mchId });
    expect(certificate).toMatchObject({ key_mode: "platform-certificate", public_key: null });
    expect(certificate.platform_certificates.map((c) => c.serial_no)).toEqual(v3Client(sandbox, V3_CERTIFICATE.mchId).identity.platformCertificates.map((c) => c.serial));
    const migrating = await control.v3Keys({ mch_id: V3_MIGRATING.mchId });
    expect(migrating.key_mode).toBe("migration");
    expect(migrating.public_key).not.toBeNull();
    expect(migrating.platform_certificates).toHaveLength(1);
    for (const answer of [direct, certificate, migrating]) expect(JSON.stringify(answer)).not.toContain("PRIVATE KEY");
    await expect(control.v3Keys({ mch_id: "1234567890" })).rejects.toMatchObject({ code: "MERCHANT_NOT_FOUND", status: 404 });
  });
});

describe("v3 platform certificate rotation", () => {
  let sandbox: RunningSandbox;
  const clock = createManualClock();
  beforeAll(async () => {
    sandbox = await startSandbox({ clock, merchants: [V3_DIRECT, V3_CERTIFICATE, V3_MIGRATING], v3RotationOverlapMs: 2 * HOUR });
  });
  afterAll(() => sandbox.stop());

  const listed = async (mchId: string, apiV3Key: string): Promise<string[]> => {
    const answer = await v3Client(sandbox, mchId).send({ target: "/v3/certificates" });
    expect(answer.status).toBe(200);
    const list = decryptV3Certificates(answer.text, { apiV3Key, now: clock.now() });
    if (!list.ok) throw new Error(list.error.message);
    return list.value.certificates.map((c) => c.serial).sort();
  };

  it("rotates over the control API: both listed during the overlap, answers signed by the new one, the old one dropped after", async () => {
    const client = v3Client(sandbox, V3_CERTIFICATE.mchId);
    const old = client.identity.platformCertificates.at(-1)?.serial as string;
    // A merchant keeps the key store it downloaded before the rotation.
    const before = client.keyStore();
    const rotated = await controlOf(sandbox).rotateV3Certificate({ mch_id: V3_CERTIFICATE.mchId, overlap_ms: HOUR });
    expect(rotated.serial_no).not.toBe(old);
    expect(rotated.retiring).toEqual([{ serial_no: old, retires_at: new Date(clock.now() + HOUR).toISOString() }]);
    expect(await listed(V3_CERTIFICATE.mchId, V3_CERTIFICATE.v3.apiV3Key)).toEqual([old, rotated.serial_no].sort());
    const answer = await client.send({ target: "/v3/certificates" });
    expect(serialOf(answer)).toBe(rotated.serial_no);
    expect(client.verify(answer).ok).toBe(true);
    // The old key store does not know the new serial: the merchant must download again (UNKNOWN_SERIAL).
    expect(before.verificationKey(rotated.serial_no, clock.now())).toMatchObject({ ok: false, error: { code: "UNKNOWN_SERIAL" } });
    await clock.advance(HOUR - 1);
    expect(await listed(V3_CERTIFICATE.mchId, V3_CERTIFICATE.v3.apiV3Key)).toEqual([old, rotated.serial_no].sort());
    await clock.advance(1);
    expect(await listed(V3_CERTIFICATE.mchId, V3_CERTIFICATE.v3.apiV3Key)).toEqual([rotated.serial_no]);
    expect((await controlOf(sandbox).v3Keys({ mch_id: V3_CERTIFICATE.mchId })).platform_certificates.map((c) => c.serial_no)).toEqual([rotated.serial_no]);
  });

  it("rotates in the middle of a run with X-Sandbox-Fault: rotate, and with a fault queued over the control API", async () => {
    const client = v3Client(sandbox, V3_CERTIFICATE.mchId);
    const first = await client.send({ target: "/v3/certificates" });
    const a = serialOf(first) as string;
    const second = await client.send({ target: "/v3/certificates", headers: { "x-sandbox-fault": "rotate" } });
    const b = serialOf(second) as string;
    expect(b).not.toBe(a);
    expect(client.verify(second).ok).toBe(true);
    expect(await listed(V3_CERTIFICATE.mchId, V3_CERTIFICATE.v3.apiV3Key)).toEqual([a, b].sort());
    const third = await client.send({ target: "/v3/certificates" });
    expect(serialOf(third)).toBe(b);
    // Queued over the control API for the next request on the path; the default overlap applies (2 h here).
    const control = controlOf(sandbox);
    await control.addFault({ path: "/v3/certificates", faults: [{ kind: "rotate" }] });
    const fourth = await client.send({ target: "/v3/certificates" });
    const c = serialOf(fourth) as string;
    expect([a, b]).not.toContain(c);
    expect(await listed(V3_CERTIFICATE.mchId, V3_CERTIFICATE.v3.apiV3Key)).toEqual([a, b, c].sort());
    expect((await control.listFaults()).faults).toEqual([]);
    await clock.advance(2 * HOUR);
    expect(await listed(V3_CERTIFICATE.mchId, V3_CERTIFICATE.v3.apiV3Key)).toEqual([c]);
  });

  it("signs notifies with the newest certificate after a rotation", async () => {
    const receiver = await startV3Receiver();
    try {
      const rotated = await controlOf(sandbox).rotateV3Certificate({ mch_id: V3_CERTIFICATE.mchId });
      seedPaidV3Order(sandbox, { mchId: V3_CERTIFICATE.mchId, outTradeNo: `V3ROTATED${Date.now()}`, notifyUrl: receiver.url });
      const delivery = await waitFor(() => receiver.deliveries[0]);
      expect(delivery.headers["wechatpay-serial"]).toBe(rotated.serial_no);
    } finally {
      await receiver.close();
    }
  });

  it("rotates a migrating merchant's certificate and leaves its public key alone", async () => {
    const client = v3Client(sandbox, V3_MIGRATING.mchId);
    const publicKeyId = client.identity.publicKey?.id;
    const rotated = await controlOf(sandbox).rotateV3Certificate({ mch_id: V3_MIGRATING.mchId });
    expect(serialOf(await client.send({ target: "/v3/certificates" }))).toBe(rotated.serial_no);
    expect(serialOf(await client.send({ target: "/v3/certificates", headers: { "wechatpay-serial": publicKeyId } }))).toBe(publicKeyId);
  });

  it("refuses to rotate a public-key merchant (NOT_ROTATABLE) and an unknown one", async () => {
    const control = controlOf(sandbox);
    const refusal = await control.rotateV3Certificate({ mch_id: V3_DIRECT.mchId }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(SandboxControlError);
    expect(refusal).toMatchObject({ code: "NOT_ROTATABLE" });
    await expect(control.rotateV3Certificate({ mch_id: "1234567890" })).rejects.toMatchObject({ code: "MERCHANT_NOT_FOUND" });
    // The fault header is harmless there: still the public key, still 404.
    const client = v3Client(sandbox, V3_DIRECT.mchId);
    const answer = await client.send({ target: "/v3/certificates", headers: { "x-sandbox-fault": "rotate" } });
    expect(answer.status).toBe(404);
    expect(serialOf(answer)).toBe(client.identity.publicKey?.id);
  });
});

describe("v3 merchant certificate given in config", () => {
  const spkiPair = generateV3TestKeyPair();
  const certificate = createV3TestCertificate({ notBefore: new Date(Date.UTC(2025, 0, 1)), notAfter: new Date(Date.UTC(2030, 0, 1)), commonName: "1900300099" });
  const spki = {
    appId: "wx3k0000000000v3k1",
    mchId: "1900300098",
    v3: { apiV3Key: "v3GivenKeyApiV3KeyForTests000098", merchantCertificate: { serial: "5A5A5A5A01", publicKeyPem: spkiPair.publicKeyPem } },
  };
  const pem = {
    appId: "wx3k0000000000v3k2",
    mchId: "1900300099",
    v3: { apiV3Key: "v3GivenCrtApiV3KeyForTests000099", merchantCertificate: { serial: certificate.serial, publicKeyPem: certificate.certificatePem } },
  };
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ merchants: [spki, pem] });
  });
  afterAll(() => sandbox.stop());

  it.each([
    ["an SPKI public key", () => spki, () => spkiPair.privateKeyPem, null],
    ["a certificate PEM", () => pem, () => certificate.keyPair.privateKeyPem, () => certificate.certificatePem],
  ])("verifies requests with %s and generates no merchant key", async (_kind, merchant, privateKey, certificatePem) => {
    const { mchId, v3 } = merchant();
    const identity = sandbox.context.v3.get(mchId);
    if (identity === undefined) throw new Error("no identity");
    expect(identity.merchantCertificate).toMatchObject({ serial: v3.merchantCertificate.serial, privateKeyPem: undefined });
    expect(() => v3Client(sandbox, mchId)).toThrow(/configured, not generated/);
    const client = v3ClientWith(sandbox, identity, createV3Signer({ mchId, serialNo: v3.merchantCertificate.serial, privateKey: privateKey() }));
    const answer = await client.send({ target: "/v3/certificates" });
    expect(answer.status).toBe(404);
    expect(client.verify(answer).ok).toBe(true);
    const keys = await controlOf(sandbox).v3Keys({ mch_id: mchId });
    expect(keys).toMatchObject({ merchant_serial: v3.merchantCertificate.serial, merchant_certificate_pem: certificatePem === null ? null : certificatePem() });
    // Another key under the same serial does not pass.
    const impostor = v3ClientWith(sandbox, identity, createV3Signer({ mchId, serialNo: v3.merchantCertificate.serial, privateKey: generateV3TestKeyPair().privateKeyPem }));
    const refused = await impostor.send({ target: "/v3/certificates" });
    expect(refused.status).toBe(401);
    expect(refused.json).toMatchObject({ code: "SIGN_ERROR" });
  });
});

describe("v3 keys written to v3KeysDir", () => {
  const dir = mkdtempSync(join(tmpdir(), "pay-sandbox-v3-keys-"));
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ merchants: [V3_DIRECT, V3_CERTIFICATE], v3KeysDir: dir });
  });
  afterAll(async () => {
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes apiclient_key.pem (owner-only) and apiclient_cert.pem, which sign requests the sandbox accepts", async () => {
    const identity = v3Client(sandbox, V3_CERTIFICATE.mchId).identity;
    const folder = join(dir, V3_CERTIFICATE.mchId);
    const keyFile = join(folder, "apiclient_key.pem");
    expect(statSync(keyFile).mode & 0o077).toBe(0);
    const certificate = new X509Certificate(readFileSync(join(folder, "apiclient_cert.pem")));
    expect(certificate.serialNumber.toUpperCase()).toBe(identity.merchantCertificate.serial);
    const signer = createV3Signer({ mchId: V3_CERTIFICATE.mchId, serialNo: certificate.serialNumber.toUpperCase(), privateKey: readFileSync(keyFile, "utf8") });
    const client = v3ClientWith(sandbox, identity, signer);
    const answer = await client.send({ target: "/v3/certificates" });
    expect(answer.status).toBe(200);
    expect(client.verify(answer).ok).toBe(true);
  });

  it("writes the WeChat Pay public key and its ID, and each platform certificate, also after a rotation", async () => {
    const direct = v3Client(sandbox, V3_DIRECT.mchId).identity;
    expect(readFileSync(join(dir, V3_DIRECT.mchId, "wxp_pub.pem"), "utf8")).toBe(direct.publicKey?.publicKeyPem);
    expect(readFileSync(join(dir, V3_DIRECT.mchId, "pub_key_id.txt"), "utf8").trim()).toBe(direct.publicKey?.id);
    expect(readdirSync(join(dir, V3_DIRECT.mchId)).filter((f) => f.startsWith("wechatpay_"))).toEqual([]);
    const rotated = await controlOf(sandbox).rotateV3Certificate({ mch_id: V3_CERTIFICATE.mchId });
    await sandbox.v3KeyFilesWritten();
    const certificates = readdirSync(join(dir, V3_CERTIFICATE.mchId)).filter((f) => f.startsWith("wechatpay_"));
    expect(certificates).toHaveLength(2);
    expect(certificates).toContain(`wechatpay_${rotated.serial_no}.pem`);
    const pem = readFileSync(join(dir, V3_CERTIFICATE.mchId, `wechatpay_${rotated.serial_no}.pem`), "utf8");
    expect(new X509Certificate(pem).serialNumber.toUpperCase()).toBe(rotated.serial_no);
  });
});
