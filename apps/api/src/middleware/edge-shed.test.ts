import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { CONTRACT_VERSION, CONTRACT_VERSION_HEADER } from "@pay/core/contract";
import Koa from "koa";
import { afterEach, describe, expect, it } from "vitest";
import type { GatewayCallError } from "../gateway/port.js";
import { createLogger } from "../logging.js";
import { createEdgeShed, EDGE_SHED_LOG_INTERVAL_MS } from "./edge-shed.js";

describe("the edge shed of create-order", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve()))));

  async function start(refusal: () => GatewayCallError | undefined) {
    let now = 1_000_000;
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
        done();
      },
    });
    const app = new Koa();
    let reached = 0;
    app.use(createEdgeShed({ gateways: { protocolForNewOrders: "v2", refusal }, logger: createLogger({ level: "info", destination, name: "t" }), clock: () => now }));
    app.use((ctx) => {
      reached++;
      ctx.body = { ok: true };
    });
    server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server?.once("listening", resolve));
    const { port } = server.address() as AddressInfo;
    const post = (path: string, method = "POST") =>
      fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { "content-type": "application/json" }, ...(method === "POST" ? { body: '{"items":[]}' } : {}) });
    return { post, lines, reached: () => reached, advance: (ms: number) => (now += ms) };
  }

  const shed: GatewayCallError = { kind: "shed", message: "every call slot is taken", retryable: true, retryAfterSeconds: 7 };

  it("answers 503 GATEWAY_UNAVAILABLE with Retry-After and the contract header, before any route runs", async () => {
    const t = await start(() => shed);
    const answer = await t.post("/api/orders");
    expect(answer.status).toBe(503);
    expect(answer.headers.get("retry-after")).toBe("7");
    expect(answer.headers.get(CONTRACT_VERSION_HEADER)).toBe(CONTRACT_VERSION);
    const body = (await answer.json()) as { error: { code: string; retryAfterSeconds: number; message: string } };
    expect(body.error.code).toBe("GATEWAY_UNAVAILABLE");
    expect(body.error.retryAfterSeconds).toBe(7);
    expect(t.reached()).toBe(0);
  });

  it("lets everything else through: an admitted create-order, other paths and methods", async () => {
    let refused: GatewayCallError | undefined;
    const t = await start(() => refused);
    expect((await t.post("/api/orders")).status).toBe(200);
    refused = shed;
    expect((await t.post("/api/orders/ABC/payment")).status).toBe(200);
    expect((await t.post("/api/orders", "GET")).status).toBe(200);
    expect((await t.post("/wxpay/notify")).status).toBe(200);
    expect(t.reached()).toBe(4);
    // A gateway failure that is not the guard's refusal is the route's to answer.
    refused = { kind: "network", message: "down", retryable: true };
    expect((await t.post("/api/orders")).status).toBe(200);
  });

  it("sums the shed requests in one log line per interval, on the injected clock", async () => {
    const t = await start(() => shed);
    for (let i = 0; i < 5; i++) await t.post("/api/orders");
    t.advance(EDGE_SHED_LOG_INTERVAL_MS);
    await t.post("/api/orders");
    const summaries = t.lines.filter((line) => line.msg === "gateway-bound requests shed at the edge");
    expect(summaries.map((line) => line.shed)).toEqual([1, 5]);
    expect(summaries[1]?.sinceMs).toBe(EDGE_SHED_LOG_INTERVAL_MS);
  });
});
