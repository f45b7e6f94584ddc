import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAKE_MERCHANT, fakeGatewayEnv } from "../../test/support/fake-app.js";
import { openTestDatabase, type TestDatabase } from "../../test/support/databases.js";
import { captureLogs } from "../../test/support/captured-logs.js";
import { createApp } from "../app.js";
import { loadConfig } from "../env.js";
import { createFakeGateway } from "../gateway/fake.js";
import { CONSOLE_NOT_BUILT, CONSOLE_SECURITY_HEADERS } from "./console.js";

const INDEX = '<!doctype html><html lang="en"><head><script type="module" src="/console/assets/index-Ab12Cd34.js"></script></head><body><div id="root"></div></body></html>';
const SCRIPT = 'console.log("the console");';
const OUTSIDE_SECRET = "OUTSIDE-THE-CONSOLE-DIR-9f3a";

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A raw request: the path goes on the wire exactly as written (fetch would normalise `..` away). */
function raw(baseUrl: string, method: string, path: string): Promise<Answer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end();
  });
}

function expectSecurityHeaders(answer: Answer): void {
  for (const [name, value] of Object.entries(CONSOLE_SECURITY_HEADERS)) expect([name, answer.headers[name.toLowerCase()]]).toEqual([name, value]);
}

async function serve(database: TestDatabase, consoleDir: string | undefined): Promise<{ url: string; server: Server }> {
  const config = loadConfig({ ...fakeGatewayEnv(database.url), ...(consoleDir === undefined ? {} : { CONSOLE_DIR: consoleDir }) });
  const { app } = createApp({
    config,
    db: database.db,
    dialect: database.dialect,
    gateway: createFakeGateway({ merchant: FAKE_MERCHANT, protocol: "v2" }),
    login: { code2Session: () => Promise.resolve({ ok: true as const, openid: "o-console" }) },
    logger: captureLogs().logger,
  });
  const callback = app.callback();
  const server = createServer((req, res) => void callback(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe("the console at /console (SQLite)", () => {
  let root: string;
  let database: TestDatabase;
  let built: { url: string; server: Server };
  let empty: { url: string; server: Server };
  let missing: { url: string; server: Server };
  const started: Server[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "pay-console-"));
    const dist = join(root, "dist");
    mkdirSync(join(dist, "assets"), { recursive: true });
    writeFileSync(join(dist, "index.html"), INDEX);
    writeFileSync(join(dist, "assets", "index-Ab12Cd34.js"), SCRIPT);
    writeFileSync(join(dist, "assets", "index-Ef56Gh78.css"), "main{color:#111}");
    writeFileSync(join(dist, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
    // Files beside the console folder, and a link inside it pointing out: never served.
    writeFileSync(join(root, "secret.txt"), OUTSIDE_SECRET);
    symlinkSync(join(root, "secret.txt"), join(dist, "assets", "linked.txt"));
    mkdirSync(join(root, "empty"));
    database = await openTestDatabase("sqlite");
    built = await serve(database, dist);
    empty = await serve(database, join(root, "empty"));
    missing = await serve(database, join(root, "no-such-dir"));
    started.push(built.server, empty.server, missing.server);
  });

  afterAll(async () => {
    await Promise.all(started.map(stop));
    await database.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("answers index.html at /console, uncached, with the security headers", async () => {
    for (const path of ["/console", "/console/"]) {
      const answer = await raw(built.url, "GET", path);
      expect([path, answer.status, answer.body]).toEqual([path, 200, INDEX]);
      expect(answer.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(answer.headers["cache-control"]).toBe("no-cache");
      expectSecurityHeaders(answer);
    }
    expect(CONSOLE_SECURITY_HEADERS["Content-Security-Policy"]).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
  });

  it("answers index.html for every console page path (the console's router takes over)", async () => {
    for (const path of ["/console/orders", "/console/orders/ORD20261203000001", "/console/sign-in?next=%2Forders", "/console/reconciliation/2026-12-02", "/console/no/such/page"]) {
      const answer = await raw(built.url, "GET", path);
      expect([path, answer.status, answer.body, answer.headers["cache-control"]]).toEqual([path, 200, INDEX, "no-cache"]);
      expectSecurityHeaders(answer);
    }
  });

  it("serves hashed assets with long immutable caching and their type; other files revalidate", async () => {
    const script = await raw(built.url, "GET", "/console/assets/index-Ab12Cd34.js");
    expect([script.status, script.body, script.headers["content-type"], script.headers["cache-control"]]).toEqual([
      200,
      SCRIPT,
      "text/javascript; charset=utf-8",
      "public, max-age=31536000, immutable",
    ]);
    expectSecurityHeaders(script);
    const style = await raw(built.url, "GET", "/console/assets/index-Ef56Gh78.css");
    expect([style.status, style.headers["content-type"]]).toEqual([200, "text/css; charset=utf-8"]);
    const icon = await raw(built.url, "GET", "/console/favicon.svg");
    expect([icon.status, icon.headers["content-type"], icon.headers["cache-control"]]).toEqual([200, "image/svg+xml", "no-cache"]);
    const head = await raw(built.url, "HEAD", "/console/assets/index-Ab12Cd34.js");
    expect([head.status, head.body]).toEqual([200, ""]);
  });

  it("a missing asset is a 404, never the page", async () => {
    const answer = await raw(built.url, "GET", "/console/assets/index-Zz99.js");
    expect(answer.status).toBe(404);
    expect(answer.body).not.toContain("<html");
    expectSecurityHeaders(answer);
  });

  it("no path reaches a file outside the indexed build: traversal, encoded traversal, symlinks", async () => {
    const attempts = [
      "/console/../secret.txt",
      "/console/assets/../../secret.txt",
      "/console/%2e%2e/secret.txt",
      "/console/assets/..%2f..%2fsecret.txt",
      "/console/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
      "/console/..%5csecret.txt",
      "/console/assets/linked.txt",
      "/console/../../package.json",
      `/console/${join("..", "..", "api", "package.json").split(sep).join("/")}`,
    ];
    for (const path of attempts) {
      const answer = await raw(built.url, "GET", path);
      expect([path, answer.body.includes(OUTSIDE_SECRET) || answer.body.includes('"name"')]).toEqual([path, false]);
      expect([path, answer.status === 200 ? answer.body : "404"]).toEqual([path, answer.status === 200 ? INDEX : "404"]);
    }
  });

  it("answers 404 with a plain message when the console is not built (no index.html, or no folder)", async () => {
    for (const running of [empty, missing]) {
      for (const path of ["/console", "/console/orders", "/console/assets/index-Ab12Cd34.js"]) {
        const answer = await raw(running.url, "GET", path);
        expect([path, answer.status, answer.body]).toEqual([path, 404, CONSOLE_NOT_BUILT]);
        expect(answer.headers["content-type"]).toBe("text/plain; charset=utf-8");
        expectSecurityHeaders(answer);
      }
    }
  });

  it("refuses other methods, and leaves every other path to the API", async () => {
    const post = await raw(built.url, "POST", "/console/orders");
    expect([post.status, post.headers.allow]).toEqual([405, "GET, HEAD"]);
    expectSecurityHeaders(post);
    const health = await raw(built.url, "GET", "/healthz");
    expect(health.status).toBe(200);
    expect(health.headers["content-security-policy"]).toBeUndefined();
    const lookalike = await raw(built.url, "GET", "/consoles");
    expect(lookalike.status).toBe(404);
    expect(lookalike.body).not.toBe(INDEX);
  });

  it("CONSOLE_DIR defaults to the monorepo's apps/console/dist", () => {
    const config = loadConfig(fakeGatewayEnv("sqlite://:memory:"));
    expect(config.consoleDir.split(sep).slice(-3)).toEqual(["apps", "console", "dist"]);
    expect(loadConfig({ ...fakeGatewayEnv("sqlite://:memory:"), CONSOLE_DIR: "relative/dist" }).consoleDir).toBe(join(process.cwd(), "relative", "dist"));
  });
});
