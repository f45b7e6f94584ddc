import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { request, type RequestOptions } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type RunningSandbox } from "../server.js";
import { createSandboxPki, writeSandboxPki, type SandboxPki } from "./pki.js";

const MCH_ID = "1900000001";
const OTHER_MCH_ID = "1900000002";
const CLIENT_AUTH_OID = "1.3.6.1.5.5.7.3.2";
const SERVER_AUTH_OID = "1.3.6.1.5.5.7.3.1";
const NOW = Date.UTC(2030, 0, 1);

let pki: SandboxPki;
let rogue: SandboxPki;

beforeAll(() => {
  pki = createSandboxPki({ mchIds: [MCH_ID, OTHER_MCH_ID, MCH_ID], hostnames: ["sandbox.test"] });
  // Same mch_id, different CA: what a certificate from somewhere else looks like to the sandbox.
  rogue = createSandboxPki({ mchIds: [MCH_ID] });
});

function client(mchId: string, from: SandboxPki = pki) {
  const issued = from.clients[mchId];
  if (issued === undefined) throw new Error(`no client certificate for ${mchId}`);
  return issued;
}

describe("createSandboxPki", () => {
  it("issues one client certificate per distinct mch_id", () => {
    expect(Object.keys(pki.clients).sort()).toEqual([MCH_ID, OTHER_MCH_ID]);
  });

  it("makes a self-signed CA that may sign certificates", () => {
    const ca = new X509Certificate(pki.ca.cert);
    expect(ca.ca).toBe(true);
    expect(ca.checkIssued(ca)).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.checkPrivateKey(createPrivateKey(pki.ca.key))).toBe(true);
    expect(ca.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it("makes a server certificate for 127.0.0.1, ::1, localhost and extra names, signed by the CA", () => {
    const ca = new X509Certificate(pki.ca.cert);
    const server = new X509Certificate(pki.server.cert);
    expect(server.ca).toBe(false);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(server.checkIP("::1")).toBeDefined();
    expect(server.checkHost("localhost")).toBe("localhost");
    expect(server.checkHost("sandbox.test")).toBe("sandbox.test");
    expect(server.checkHost("example.com")).toBeUndefined();
    expect(server.keyUsage).toContain(SERVER_AUTH_OID);
    expect(server.checkPrivateKey(createPrivateKey(pki.server.key))).toBe(true);
  });

  it("makes client certificates with CN = mch_id and clientAuth, signed by the CA", () => {
    const ca = new X509Certificate(pki.ca.cert);
    const cert = new X509Certificate(client(MCH_ID).cert);
    expect(cert.subject.split("\n")).toEqual(expect.arrayContaining([`CN=${MCH_ID}`, "O=WeChat Pay sandbox merchant"]));
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual([CLIENT_AUTH_OID]);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(client(MCH_ID).key))).toBe(true);
    expect(client(MCH_ID).key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it("does not let another CA's client certificate pass as this CA's", () => {
    const ca = new X509Certificate(pki.ca.cert);
    const foreign = new X509Certificate(client(MCH_ID, rogue).cert);
    expect(foreign.checkIssued(ca)).toBe(false);
    expect(foreign.verify(ca.publicKey)).toBe(false);
  });

  it("dates validity from the injected clock", () => {
    const dated = createSandboxPki({ mchIds: [], now: NOW, validityDays: 30 });
    const ca = new X509Certificate(dated.ca.cert);
    expect(new Date(ca.validFrom).getTime()).toBe(NOW - 60_000);
    expect(new Date(ca.validTo).getTime()).toBe(NOW + 30 * 24 * 3600 * 1000);
  });

  it("packs a p12 whose password is the mch_id and that Node loads", () => {
    const { pfx, passphrase } = client(MCH_ID);
    expect(passphrase).toBe(MCH_ID);
    expect(() => createSecureContext({ pfx, passphrase })).not.toThrow();
    expect(() => createSecureContext({ pfx, passphrase: "wrong" })).toThrow();
  });

  it.each([
    ["an mch_id that is a path", "../etc"],
    ["an empty mch_id", ""],
    ["an mch_id longer than 32 characters", "1".repeat(33)],
  ])("refuses %s", (_name, mchId) => {
    expect(() => createSandboxPki({ mchIds: [mchId] })).toThrow(/mch_id/);
  });
});

describe("writeSandboxPki", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sandbox-pki-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the files where it says, keys and p12 readable by the owner only", async () => {
    const target = join(dir, "pki");
    // A key left from an earlier run with a loose mode must end up 0600 too.
    const paths = await writeSandboxPki(pki, target);
    await writeFile(paths.serverKey, "old", { mode: 0o644 });
    const again = await writeSandboxPki(pki, target);

    expect(again.ca).toBe(join(target, "ca.pem"));
    expect(again.serverCert).toBe(join(target, "server-cert.pem"));
    expect(again.serverKey).toBe(join(target, "server-key.pem"));
    const merchant = again.clients[MCH_ID];
    expect(merchant).toEqual({
      cert: join(target, MCH_ID, "apiclient_cert.pem"),
      key: join(target, MCH_ID, "apiclient_key.pem"),
      p12: join(target, MCH_ID, "apiclient_cert.p12"),
    });
    if (merchant === undefined) return;
    expect(await readFile(again.ca, "utf8")).toBe(pki.ca.cert);
    expect(await readFile(again.serverKey, "utf8")).toBe(pki.server.key);
    expect(await readFile(merchant.cert, "utf8")).toBe(client(MCH_ID).cert);
    expect((await readFile(merchant.p12)).equals(client(MCH_ID).pfx)).toBe(true);
    if (process.platform !== "win32") {
      for (const secret of [again.serverKey, merchant.key, merchant.p12]) expect((await stat(secret)).mode & 0o777).toBe(0o600);
    }
  });
});

interface Reply {
  readonly status: number | undefined;
  readonly contentType: string | undefined;
  readonly body: string;
}

function postRefund(url: string, tls: RequestOptions): Promise<Reply> {
  const body = `<xml><appid>wx0000sandbox0001</appid><mch_id>${MCH_ID}</mch_id><nonce_str>abc</nonce_str></xml>`;
  return new Promise((resolve, reject) => {
    const req = request(`${url}/secapi/pay/refund`, { method: "POST", headers: { "content-type": "text/xml" }, agent: false, ca: pki.ca.cert, ...tls }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode, contentType: res.headers["content-type"], body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("mutual TLS on /secapi/pay/refund", () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({
      merchants: [{ appId: "wx0000sandbox0001", mchId: MCH_ID, key: "k".repeat(32) }],
      tls: { key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert },
      requireClientCert: true,
    });
  });
  afterAll(async () => {
    await sandbox.stop();
  });

  const expectNginxNoCertPage = (reply: Reply): void => {
    expect(reply.status).toBe(400);
    expect(reply.contentType).toMatch(/^text\/html/);
    expect(reply.body).toContain("No required SSL certificate was sent");
    expect(reply.body).not.toMatch(/<xml>/);
  };
  const expectGatewayXml = (reply: Reply): void => {
    // Any XML answer (here a FAIL for the missing sign) means the certificate gate let the request through.
    expect(reply.status).toBe(200);
    expect(reply.body).toMatch(/^<xml>[\s\S]*<return_code><!\[CDATA\[/);
  };

  it("answers nginx's HTML 400 without a client certificate", async () => {
    expectNginxNoCertPage(await postRefund(sandbox.url, {}));
  });

  it("passes a request with the merchant's PEM certificate and key", async () => {
    const { cert, key } = client(MCH_ID);
    expectGatewayXml(await postRefund(sandbox.url, { cert, key }));
  });

  it("passes a request with the merchant's apiclient_cert.p12 and its password", async () => {
    const { pfx, passphrase } = client(MCH_ID);
    expectGatewayXml(await postRefund(sandbox.url, { pfx, passphrase }));
  });

  it("refuses a client certificate issued by another CA with the same 400", async () => {
    const { cert, key } = client(MCH_ID, rogue);
    expectNginxNoCertPage(await postRefund(sandbox.url, { cert, key }));
  });
});
