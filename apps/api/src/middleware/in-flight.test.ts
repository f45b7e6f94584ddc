import { once } from "node:events";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import Koa from "koa";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { readJsonBody } from "../http/body.js";
import { createErrorHandler } from "./error-handler.js";
import { createInFlightCap, type InFlightCap } from "./in-flight.js";

/** A promise the test settles by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Rig {
  readonly url: string;
  readonly cap: InFlightCap;
  readonly shed: () => number;
  readonly gauge: number[];
  /** Requests that reached the handler. */
  readonly handled: () => number;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** A Koa app as app.ts builds it (the error middleware around the cap), on a real port, with `handler` behind the cap. */
async function rig(max: number, handler: (ctx: Koa.Context) => Promise<void>): Promise<Rig> {
  let shed = 0;
  let handled = 0;
  const gauge: number[] = [];
  const cap = createInFlightCap({ max, observer: { inFlight: (count) => gauge.push(count), shed: () => (shed += 1) } });
  const app = new Koa();
  app.silent = true;
  app.use(createErrorHandler(pino({ level: "silent" })));
  app.use(cap);
  app.use(async (ctx) => {
    handled += 1;
    await handler(ctx);
  });
  const callback = app.callback();
  const server = createServer((req, res) => void callback(req, res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, cap, shed: () => shed, gauge, handled: () => handled };
}

describe("createInFlightCap", () => {
  it("refuses a bad maximum up front", () => {
    expect(() => createInFlightCap({ max: 0 })).toThrow(RangeError);
    expect(() => createInFlightCap({ max: 1.5 })).toThrow(RangeError);
    expect(() => createInFlightCap({ max: 1, retryAfterSeconds: 0 })).toThrow(RangeError);
  });

  it("admits `max` requests; the next is answered at once 503 OVERLOADED with Retry-After, its handler never called; the place frees when one ends", async () => {
    const held = gate();
    const r = await rig(2, async (ctx) => {
      await held.promise;
      ctx.body = { ok: true };
    });
    const first = fetch(r.url);
    const second = fetch(r.url);
    await until(() => r.cap.count() === 2, "two requests in flight");
    const refused = await fetch(r.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ a: 1 }) });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    // The body was never read: the connection closes instead of draining it.
    expect(refused.headers.get("connection")).toBe("close");
    expect(await refused.json()).toEqual({ error: { code: "OVERLOADED", message: expect.stringContaining("try again") as unknown, retryAfterSeconds: 1 } });
    expect(r.handled()).toBe(2);
    expect(r.shed()).toBe(1);
    held.open();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    await until(() => r.cap.count() === 0, "both released");
    expect((await fetch(r.url)).status).toBe(200);
    expect(r.gauge).toEqual([1, 2, 1, 0, 1, 0]);
  });

  it("releases the place when the handler throws", async () => {
    const r = await rig(1, () => Promise.reject(new Error("boom")));
    expect((await fetch(r.url)).status).toBe(500);
    await until(() => r.cap.count() === 0, "released");
    expect((await fetch(r.url)).status).toBe(500);
    expect(r.shed()).toBe(0);
  });

  it("a client that goes away while its handler works keeps the place until the handler ends, then frees it", async () => {
    const held = gate();
    const started = gate();
    const r = await rig(1, async (ctx) => {
      started.open();
      await held.promise;
      ctx.body = { ok: true };
    });
    const controller = new AbortController();
    const aborted = fetch(r.url, { signal: controller.signal }).catch((error: unknown) => error);
    await started.promise;
    controller.abort();
    expect(await aborted).toBeInstanceOf(Error);
    // The work goes on (a gateway call, say): the place is still taken.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.cap.count()).toBe(1);
    expect((await fetch(r.url)).status).toBe(503);
    held.open();
    await until(() => r.cap.count() === 0, "released after the handler ended");
    expect((await fetch(r.url)).status).toBe(200);
  });

  it("a client that goes away while its JSON body is being read frees the place", async () => {
    const r = await rig(1, async (ctx) => {
      ctx.body = { read: await readJsonBody(ctx, { timeoutMs: 5000 }) };
    });
    const req = httpRequest(`${r.url}/`, { method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } });
    req.on("error", () => undefined);
    req.write('{"a":');
    await until(() => r.cap.count() === 1, "the request in flight");
    req.destroy();
    await until(() => r.cap.count() === 0, "released after the abort");
    expect((await fetch(r.url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(200);
  });

  it("a streamed answer holds the place until its last byte", async () => {
    const more = gate();
    const r = await rig(1, (ctx) => {
      ctx.type = "text/csv";
      ctx.body = Readable.from(
        (async function* rows() {
          yield "a,b\n";
          await more.promise;
          yield "1,2\n";
        })(),
      );
      return Promise.resolve();
    });
    const answer = await new Promise<IncomingMessage>((resolve) => httpRequest(`${r.url}/`, resolve).end());
    const head = await new Promise<string>((resolve) => answer.once("data", (chunk: Buffer) => resolve(chunk.toString("utf8"))));
    expect(head).toBe("a,b\n");
    // The handler returned long ago; the answer is still streaming.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.cap.count()).toBe(1);
    more.open();
    answer.resume();
    await once(answer, "end");
    await until(() => r.cap.count() === 0, "released after the last byte");
  });
});
