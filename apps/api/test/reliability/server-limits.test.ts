// Issue 21, server timeouts and limits, through the production HTTP server (createHttpServer) with small
// limits, over raw sockets: a slow or huge client is cut off by the server, with a clear answer where HTTP
// allows one, and the server goes on answering. The limits do not touch the database: SQLite only.
import type { Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import Koa from "koa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import type { HttpLimits } from "../../src/http/limits.js";
import { loadConfig } from "../../src/env.js";
import { createLogger } from "../../src/logging.js";
import { createHttpServer, startApi } from "../../src/server.js";
import { fakeGatewayEnv } from "../support/fake-app.js";
import { startApiHarness, type ApiHarness } from "../support/api-harness.js";
import { rawRequest } from "./raw-http.js";

const LIMITS: HttpLimits = {
  requestTimeoutMs: 6000,
  headersTimeoutMs: 1000,
  keepAliveTimeoutMs: 5000,
  socketIdleTimeoutMs: 20_000,
  maxRequestsPerSocket: 3,
  maxHeaderBytes: 8192,
  jsonBodyTimeoutMs: 800,
};
const JSON_TYPE = { "content-type": "application/json" } as const;

/** Collects what a socket receives until it closes (or `timeoutMs`), and reports when it closed. */
function watch(socket: Socket, timeoutMs: number): Promise<{ text: string; closedAfterMs: number | undefined }> {
  const started = performance.now();
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => undefined);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString("latin1"), closedAfterMs: undefined });
    }, timeoutMs);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString("latin1"), closedAfterMs: Math.round(performance.now() - started) });
    });
  });
}

/** Reads one answer with a Content-Length from a kept-alive socket. */
function readAnswer(socket: Socket): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf("\r\n\r\n");
      if (end < 0) return;
      const [statusLine = "", ...lines] = received.subarray(0, end).toString("latin1").split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) headers[line.slice(0, line.indexOf(":")).trim().toLowerCase()] = line.slice(line.indexOf(":") + 1).trim();
      const length = Number(headers["content-length"] ?? 0);
      if (received.length < end + 4 + length) return;
      socket.off("data", onData);
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body: received.subarray(end + 4, end + 4 + length).toString("utf8") });
    };
    socket.on("data", onData);
    socket.once("error", reject);
  });
}

describe("server timeouts and limits (createHttpServer, HTTP_*)", () => {
  let h: ApiHarness;
  let server: Server;
  let url: string;
  let port: number;

  beforeAll(async () => {
    h = await startApiHarness("sqlite");
    const { app } = createApp({
      config: { ...h.config, http: LIMITS },
      db: h.services.db,
      dialect: h.services.dialect,
      gateway: h.services.gateway,
      login: h.services.login,
      logger: h.services.logger,
    });
    server = createHttpServer(app, LIMITS);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await h.close();
  });

  it("refuses a headers timeout longer than the request timeout (Node would throw a RangeError)", () => {
    expect(() => createHttpServer(new Koa(), { ...LIMITS, headersTimeoutMs: 7000 })).toThrow("HTTP_HEADERS_TIMEOUT_MS must be at most HTTP_REQUEST_TIMEOUT_MS");
  });

  it("cuts headers that drip and never finish at the headers timeout (408, connection closed), long before the request timeout", async () => {
    const socket = connect(port, "127.0.0.1");
    const seen = watch(socket, LIMITS.requestTimeoutMs + 2000);
    socket.write(`POST /api/session HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
    let n = 0;
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write(`X-Drip-${(n += 1)}: a\r\n`);
    }, 100);
    const { text, closedAfterMs } = await seen;
    clearInterval(drip);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfterMs).toBeDefined();
    // The headers timeout (1 s), checked every 250 ms: well before the 6 s request timeout.
    expect(closedAfterMs).toBeLessThan(LIMITS.requestTimeoutMs - 2000);
    expect((await h.request("GET", "/healthz")).status).toBe(200);
  });

  it.each(["chunked", "content-length"] as const)("refuses a JSON body that drips (%s) within the body deadline: 400 JSON naming the body, connection closed", async (framing) => {
    const answer = await rawRequest(url, {
      path: "/api/session",
      headers: JSON_TYPE,
      body: '{"code":"',
      drip: { bytes: 1, everyMs: 100, framing, endless: true },
      timeoutMs: LIMITS.requestTimeoutMs + 2000,
    });
    expect(answer.status).toBe(400);
    expect(answer.headers["content-type"]).toMatch(/^application\/json/);
    expect(answer.headers.connection).toBe("close");
    expect(JSON.parse(answer.body)).toEqual({ error: { code: "VALIDATION_FAILED", message: `The body did not arrive within ${LIMITS.jsonBodyTimeoutMs} ms.`, field: "body" } });
    // The body deadline (800 ms) answered, not the 6 s request timeout.
    expect(answer.ms).toBeLessThan(LIMITS.requestTimeoutMs - 2000);
  });

  it("refuses an oversized header block with 431 before any route runs", async () => {
    const answer = await rawRequest(url, { method: "GET", path: "/healthz", headers: { "x-big": "a".repeat(LIMITS.maxHeaderBytes + 100) }, timeoutMs: 5000 });
    expect(answer.status).toBe(431);
    // Just under the cap is served.
    const fits = await rawRequest(url, { method: "GET", path: "/healthz", headers: { "x-big": "a".repeat(LIMITS.maxHeaderBytes - 500) }, timeoutMs: 5000 });
    expect(fits.status).toBe(200);
  });

  it("refuses a JSON body over 16 KiB with 413 at once, without reading the rest (Content-Length says 1 MB; 1 KB sent every 50 ms)", async () => {
    const body = Buffer.alloc(1024 * 1024, 0x20);
    const answer = await rawRequest(url, {
      path: "/api/session",
      headers: JSON_TYPE,
      body,
      drip: { bytes: 1024, everyMs: 50, framing: "content-length" },
      timeoutMs: 10_000,
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });
    expect(answer.headers.connection).toBe("close");
    // Sending it all would take 51 s: the answer came after a few KB at most.
    expect(answer.ms).toBeLessThan(5000);
  });

  it("refuses a chunked JSON body with 413 as soon as it passes 16 KiB", async () => {
    const answer = await rawRequest(url, {
      path: "/api/session",
      headers: JSON_TYPE,
      body: Buffer.alloc(1024 * 1024, 0x20),
      drip: { bytes: 4096, everyMs: 50 },
      timeoutMs: 10_000,
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });
    expect(answer.ms).toBeLessThan(5000);
  });

  it(`closes a keep-alive connection after ${LIMITS.maxRequestsPerSocket} requests`, async () => {
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    const answers = [];
    for (let i = 0; i < LIMITS.maxRequestsPerSocket; i += 1) {
      const answer = readAnswer(socket);
      socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\n\r\n`);
      answers.push(await answer);
    }
    // Watched for less than the keep-alive timeout (5 s): the close is the cap's, not an idle connection's.
    const closed = watch(socket, LIMITS.keepAliveTimeoutMs - 2000);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.slice(0, -1).map((a) => a.headers.connection)).toEqual(["keep-alive", "keep-alive"]);
    expect(answers.at(-1)?.headers.connection).toBe("close");
    // The server ends the connection itself after the last answer.
    expect((await closed).closedAfterMs).toBeDefined();
  });
});

describe("startApi", () => {
  it("serves with the HTTP_* limits of its configuration", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pay-server-limits-"));
    try {
      const config = loadConfig({
        ...fakeGatewayEnv(join(dir, "pay.db")),
        PORT: "0",
        HTTP_REQUEST_TIMEOUT_MS: "9000",
        HTTP_HEADERS_TIMEOUT_MS: "4000",
        HTTP_KEEP_ALIVE_TIMEOUT_MS: "7000",
        HTTP_SOCKET_IDLE_TIMEOUT_MS: "90000",
        HTTP_MAX_REQUESTS_PER_SOCKET: "2",
        HTTP_MAX_HEADER_BYTES: "4096",
      });
      const api = await startApi(config, createLogger({ level: "silent" }));
      try {
        const { server } = api;
        expect({
          requestTimeout: server.requestTimeout,
          headersTimeout: server.headersTimeout,
          keepAliveTimeout: server.keepAliveTimeout,
          timeout: server.timeout,
          maxRequestsPerSocket: server.maxRequestsPerSocket,
        }).toEqual({ requestTimeout: 9000, headersTimeout: 4000, keepAliveTimeout: 7000, timeout: 90_000, maxRequestsPerSocket: 2 });
        const big = await rawRequest(api.url, { method: "GET", path: "/healthz", headers: { "x-big": "a".repeat(5000) }, timeoutMs: 5000 });
        expect(big.status).toBe(431);
      } finally {
        await api.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
