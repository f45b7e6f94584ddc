// Hostile XML at both notify routes, through the production HTTP server (createHttpServer): every body
// is answered with WeChat's FAIL XML within a bound, changes nothing, is logged with its reason, and the
// server answers the next request.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { buildXml, encryptRefundReqInfo, NOTIFY_SUCCESS_REPLY } from "@pay/core";
import { buildRefundNotify, buildSignedPayNotify } from "@pay/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { createHttpServer } from "../../src/server.js";
import { NOTIFY_BODY_TIMEOUT_MS } from "../../src/services/notifies.js";
import { ADMIN_TOKEN, MERCHANT, startApiHarness, type ApiHarness } from "../support/api-harness.js";
import { DATABASES } from "../support/databases.js";
import { recordFigure } from "./figures.js";
import { createPendingOrder, payNotifyFields, refundPayload, sandboxOrder } from "./fixtures.js";
import { rawRequest, type RawRequest } from "./raw-http.js";
import { snapshotState } from "./snapshot.js";

const FAIL = "<return_code><![CDATA[FAIL]]></return_code>";
/** Any hostile body that arrived in full is answered within this. */
const ANSWER_BOUND_MS = 1000;
/**
 * A 10 MB upload is cut off after 64 KiB; the bound allows for the client still writing. The server
 * answers FAIL and closes without reading the rest, so a client still sending may get a TCP reset that
 * swallows the answer (any HTTP/1.1 server that stops reading does this); the refusal is then proven by
 * the server's own log line, within the same bound.
 */
const LARGE_BOUND_MS = 3000;
const DRIP_BOUND_MS = NOTIFY_BODY_TIMEOUT_MS + 1000;

type Route = "/wxpay/notify" | "/wxpay/refund-notify";
const ROUTES: readonly Route[] = ["/wxpay/notify", "/wxpay/refund-notify"];
const XML = { "content-type": "text/xml" } as const;

interface HostileCase {
  readonly name: string;
  /** The request, from the route's genuine body and the canary URL an external entity points at. */
  readonly build: (genuine: string, canary: string) => Omit<RawRequest, "path" | "timeoutMs">;
  /** The reason the refusal is logged with. */
  readonly reason: string;
  readonly boundMs: number;
}

const afterRoot = (genuine: string, inserted: string): string => genuine.replace("<xml>", `<xml>${inserted}`);
const beforeEnd = (genuine: string, inserted: string): string => genuine.replace("</xml>", `${inserted}</xml>`);
/** One more `<tag>` than the genuine body has, or two where it has none: a duplicate either way. */
const duplicate = (genuine: string, tag: string, value: string): string => (genuine.includes(`<${tag}>`) ? "" : `<${tag}>${value}</${tag}>`) + `<${tag}>${value}</${tag}>`;
const LAUGHS = ['<!ENTITY lol "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? "" : i};`.repeat(10)}">`)].join("");

const CASES: readonly HostileCase[] = [
  {
    name: "an external entity reading a file",
    build: (g) => ({ headers: XML, body: `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${afterRoot(g, "<attach>&xxe;</attach>")}` }),
    reason: "DTD_FORBIDDEN",
    boundMs: ANSWER_BOUND_MS,
  },
  {
    name: "an external entity fetching a URL",
    build: (g, canary) => ({ headers: XML, body: `<!DOCTYPE xml [<!ENTITY xxe SYSTEM "${canary}/xxe">]>${afterRoot(g, "<attach>&xxe;</attach>")}` }),
    reason: "DTD_FORBIDDEN",
    boundMs: ANSWER_BOUND_MS,
  },
  {
    name: "an external parameter entity (out-of-band DTD)",
    build: (g, canary) => ({ headers: XML, body: `<!DOCTYPE xml [<!ENTITY % remote SYSTEM "${canary}/evil.dtd"> %remote;]>${g}` }),
    reason: "DTD_FORBIDDEN",
    boundMs: ANSWER_BOUND_MS,
  },
  {
    name: "billion laughs",
    build: (g) => ({ headers: XML, body: `<?xml version="1.0"?><!DOCTYPE xml [${LAUGHS}]>${afterRoot(g, "<attach>&lol9;</attach>")}` }),
    reason: "DTD_FORBIDDEN",
    boundMs: ANSWER_BOUND_MS,
  },
  {
    name: "an internal DTD entity standing in for a field",
    build: (g) => ({ headers: XML, body: `<!DOCTYPE xml [<!ENTITY fee "1">]>${afterRoot(g, "<attach>&fee;</attach>")}` }),
    reason: "DTD_FORBIDDEN",
    boundMs: ANSWER_BOUND_MS,
  },
  { name: "a DOCTYPE alone", build: (g) => ({ headers: XML, body: `<!DOCTYPE xml>${g}` }), reason: "DTD_FORBIDDEN", boundMs: ANSWER_BOUND_MS },
  { name: "a lower-case doctype", build: (g) => ({ headers: XML, body: `<!doctype xml>${g}` }), reason: "DTD_FORBIDDEN", boundMs: ANSWER_BOUND_MS },
  {
    name: "a duplicate sign (forged first)",
    build: (g) => ({ headers: XML, body: afterRoot(g, duplicate(g, "sign", "0".repeat(64))) }),
    reason: "DUPLICATE_TAG",
    boundMs: ANSWER_BOUND_MS,
  },
  {
    name: "a duplicate sign (forged last)",
    build: (g) => ({ headers: XML, body: beforeEnd(g, duplicate(g, "sign", "0".repeat(64))) }),
    reason: "DUPLICATE_TAG",
    boundMs: ANSWER_BOUND_MS,
  },
  { name: "a duplicate total_fee", build: (g) => ({ headers: XML, body: afterRoot(g, duplicate(g, "total_fee", "1")) }), reason: "DUPLICATE_TAG", boundMs: ANSWER_BOUND_MS },
  { name: "a duplicate req_info", build: (g) => ({ headers: XML, body: beforeEnd(g, duplicate(g, "req_info", "AAAA")) }), reason: "DUPLICATE_TAG", boundMs: ANSWER_BOUND_MS },
  {
    name: "a nested element",
    build: (g) => ({ headers: XML, body: afterRoot(g, "<attach><total_fee>1</total_fee></attach>") }),
    reason: "NESTED_ELEMENT",
    boundMs: ANSWER_BOUND_MS,
  },
  { name: "a __proto__ tag", build: (g) => ({ headers: XML, body: afterRoot(g, "<__proto__>polluted</__proto__>") }), reason: "FORBIDDEN_NAME", boundMs: ANSWER_BOUND_MS },
  { name: "a constructor tag", build: (g) => ({ headers: XML, body: afterRoot(g, "<constructor>polluted</constructor>") }), reason: "FORBIDDEN_NAME", boundMs: ANSWER_BOUND_MS },
  { name: "a prototype tag", build: (g) => ({ headers: XML, body: afterRoot(g, "<prototype>polluted</prototype>") }), reason: "FORBIDDEN_NAME", boundMs: ANSWER_BOUND_MS },
  {
    name: "a 10 MB body with Content-Length",
    build: (g) => ({ headers: XML, body: afterRoot(g, `<attach>${"A".repeat(10 * 1024 * 1024)}</attach>`), drip: { bytes: 64 * 1024, everyMs: 10, framing: "content-length" } }),
    reason: "TOO_LARGE",
    boundMs: LARGE_BOUND_MS,
  },
  {
    name: "a 10 MB chunked body",
    build: (g) => ({ headers: XML, body: afterRoot(g, `<attach>${"A".repeat(10 * 1024 * 1024)}</attach>`), drip: { bytes: 64 * 1024, everyMs: 10 } }),
    reason: "TOO_LARGE",
    boundMs: LARGE_BOUND_MS,
  },
  {
    name: "invalid UTF-8",
    build: (g) => ({
      headers: XML,
      body: Buffer.concat([Buffer.from("<xml><attach>"), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from("</attach>"), Buffer.from(g.slice("<xml>".length))]),
    }),
    reason: "INVALID_UTF8",
    boundMs: ANSWER_BOUND_MS,
  },
  {
    name: "a UTF-16 document",
    build: (g) => ({ headers: { "content-type": "text/xml; charset=utf-16" }, body: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(g, "utf16le")]) }),
    reason: "INVALID_UTF8",
    boundMs: ANSWER_BOUND_MS,
  },
  { name: "Content-Type application/json", build: (g) => ({ headers: { "content-type": "application/json" }, body: g }), reason: "WRONG_CONTENT_TYPE", boundMs: ANSWER_BOUND_MS },
  { name: "Content-Type text/plain", build: (g) => ({ headers: { "content-type": "text/plain" }, body: g }), reason: "WRONG_CONTENT_TYPE", boundMs: ANSWER_BOUND_MS },
  {
    name: "Content-Type application/x-www-form-urlencoded",
    build: (g) => ({ headers: { "content-type": "application/x-www-form-urlencoded" }, body: g }),
    reason: "WRONG_CONTENT_TYPE",
    boundMs: ANSWER_BOUND_MS,
  },
  { name: "no Content-Type", build: (g) => ({ body: g }), reason: "WRONG_CONTENT_TYPE", boundMs: ANSWER_BOUND_MS },
  { name: "an empty body", build: () => ({ headers: XML, body: "" }), reason: "EMPTY", boundMs: ANSWER_BOUND_MS },
  { name: "whitespace only", build: () => ({ headers: XML, body: " \r\n\t " }), reason: "EMPTY", boundMs: ANSWER_BOUND_MS },
];

describe.each(DATABASES)("hostile XML at the notify routes on %s", (kind) => {
  let h: ApiHarness;
  let server: Server;
  let url: string;
  let canary: Server;
  let canaryUrl: string;
  let canaryHits = 0;
  const genuine: Record<Route, string> = { "/wxpay/notify": "", "/wxpay/refund-notify": "" };
  let pendingId = "";
  let refund = { orderId: "", refundId: "", totalFee: 0, refundFee: 0 };
  const timings: Array<{ route: Route; name: string; ms: number }> = [];
  /** 10 MB uploads whose FAIL answer the client lost to a reset (see LARGE_BOUND_MS). */
  let resets = 0;

  beforeAll(async () => {
    h = await startApiHarness(kind, { notifies: "lost" });
    // The production server wrapper (request and header timeouts), around an app on the harness's services.
    const { app } = createApp({
      config: h.config,
      db: h.services.db,
      dialect: h.services.dialect,
      gateway: h.services.gateway,
      login: h.services.login,
      logger: h.services.logger,
    });
    server = createHttpServer(app);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    canary = createServer((_req, res) => {
      canaryHits += 1;
      res.end("<!ENTITY leaked 'yes'>");
    });
    await new Promise<void>((resolve) => canary.listen(0, "127.0.0.1", resolve));
    canaryUrl = `http://127.0.0.1:${(canary.address() as AddressInfo).port}`;

    const pending = await createPendingOrder(h);
    pendingId = pending.order.id;
    genuine["/wxpay/notify"] = buildSignedPayNotify(payNotifyFields(pending.order), { key: MERCHANT.key, signType: "HMAC-SHA256", omitSignType: true });

    // A paid order with a refund in processing, through the real flow; its refund notify is the genuine one.
    const paid = await createPendingOrder(h, `refunder-${kind}`, "mug");
    await h.pay(paid.payment);
    const atGateway = await sandboxOrder(h.sandbox.url, paid.order.id);
    const notify = buildSignedPayNotify(payNotifyFields(paid.order, { transaction_id: atGateway.transaction_id ?? "", time_end: atGateway.time_end ?? "" }), {
      key: MERCHANT.key,
      signType: "HMAC-SHA256",
      omitSignType: true,
    });
    expect((await rawRequest(url, { path: "/wxpay/notify", headers: XML, body: notify, timeoutMs: 2000 })).body).toBe(NOTIFY_SUCCESS_REPLY);
    const refundFee = 300;
    const created = await h.request("POST", `/api/admin/orders/${paid.order.id}/refunds`, {
      body: { refundFee },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": `hostile-${kind}` },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    refund = { orderId: paid.order.id, refundId: (created.body.refund as { id: string }).id, totalFee: paid.order.totalFee, refundFee };
    genuine["/wxpay/refund-notify"] = buildRefundNotify({ appid: MERCHANT.appId, mch_id: MERCHANT.mchId }, refundPayload(refund), MERCHANT.key);
  });

  afterAll(async () => {
    const slowest = Math.max(...timings.filter((t) => !t.name.includes("10 MB") && t.name !== "slow drip").map((t) => t.ms));
    const largest = Math.max(...timings.filter((t) => t.name.includes("10 MB")).map((t) => t.ms));
    recordFigure(`hostile-xml.${kind}`, { requests: timings.length, slowestFullBodyMs: slowest, slowest10MbMs: largest, tenMbAnswersLostToReset: resets, canaryHits });
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    canary.closeAllConnections();
    await new Promise<void>((resolve) => canary.close(() => resolve()));
    await h.close();
  });

  /** Sends one hostile request and checks everything the issue asks of the answer. */
  async function expectRefused(route: Route, request: Omit<RawRequest, "path" | "timeoutMs">, reason: string, boundMs: number, name: string): Promise<void> {
    const before = await snapshotState(h.database.db);
    const mark = h.logs.length;
    const answer = await rawRequest(url, { ...request, path: route, timeoutMs: boundMs + 5000 });
    timings.push({ route, name, ms: answer.ms });
    const lines = h.logs.slice(mark).map((line) => JSON.parse(line) as { msg: string; reason?: string; acknowledged?: boolean; status?: number; path?: string; ms?: number });
    if (answer.status === undefined && boundMs === LARGE_BOUND_MS && /EPIPE|ECONNRESET/.test(answer.error ?? "")) {
      // Reset while still uploading: the server's request line shows the FAIL it sent, and when.
      resets += 1;
      expect(lines.find((line) => line.msg === "notify" && line.path === route)).toMatchObject({ status: 200, ms: expect.any(Number) as number });
      expect(lines.find((line) => line.msg === "notify")?.ms).toBeLessThan(boundMs);
    } else {
      expect(answer.error).toBeUndefined();
      expect(answer.status).toBe(200);
      expect(answer.body).toContain(FAIL);
    }
    expect(answer.ms).toBeLessThan(boundMs);
    const logged = lines.find((line) => line.msg === "notify");
    expect(logged).toMatchObject({ acknowledged: false, reason });
    expect(await snapshotState(h.database.db)).toBe(before);
    const health = await rawRequest(url, { method: "GET", path: "/healthz", timeoutMs: 2000 });
    expect(health.status).toBe(200);
    expect(health.ms).toBeLessThan(ANSWER_BOUND_MS);
  }

  for (const route of ROUTES) {
    it.each(CASES)(`${route}: $name -> FAIL, logged, nothing changed, still serving`, async ({ name, build, reason, boundMs }) => {
      await expectRefused(route, build(genuine[route], canaryUrl), reason, boundMs, name);
    });
  }

  it.each([
    ["a DOCTYPE", () => `<!DOCTYPE root [<!ENTITY fee "1">]>${buildXml(refundPayload(refund), "root")}`, "DTD_FORBIDDEN"],
    ["a duplicate refund_fee", () => buildXml(refundPayload(refund), "root").replace("<root>", `<root><refund_fee>${refund.totalFee}</refund_fee>`), "DUPLICATE_TAG"],
    ["a nested element", () => buildXml(refundPayload(refund), "root").replace("<root>", "<root><a><b>1</b></a>"), "NESTED_ELEMENT"],
    ["a __proto__ tag", () => buildXml(refundPayload(refund), "root").replace("<root>", "<root><__proto__>x</__proto__>"), "FORBIDDEN_NAME"],
  ] as const)("/wxpay/refund-notify: %s inside the encrypted req_info -> FAIL, nothing changed", async (name, inner, reason) => {
    const body = buildXml({ return_code: "SUCCESS", appid: MERCHANT.appId, mch_id: MERCHANT.mchId, nonce_str: "n0nce", req_info: encryptRefundReqInfo(inner(), MERCHANT.key) });
    await expectRefused("/wxpay/refund-notify", { headers: XML, body }, reason, ANSWER_BOUND_MS, `req_info: ${name}`);
  });

  // The body deadline is the same whatever the database, and costs 5 s: checked once.
  if (kind === "sqlite") {
    it("a slow-drip body on both routes is cut off with FAIL after the body deadline, and the server keeps serving meanwhile", async () => {
      const before = await snapshotState(h.database.db);
      // The client asks to keep the connection: the server still closes it, which ends the drip.
      const drips = ROUTES.map((route) =>
        rawRequest(url, {
          path: route,
          headers: { ...XML, connection: "keep-alive" },
          body: genuine[route],
          drip: { bytes: 1, everyMs: 50, endless: true },
          timeoutMs: DRIP_BOUND_MS + 5000,
        }),
      );
      // While both drip, other requests are answered at once.
      const health = await rawRequest(url, { method: "GET", path: "/healthz", timeoutMs: 2000 });
      expect(health.status).toBe(200);
      const answers = await Promise.all(drips);
      for (const [i, answer] of answers.entries()) {
        timings.push({ route: ROUTES[i] ?? "/wxpay/notify", name: "slow drip", ms: answer.ms });
        expect(answer.status).toBe(200);
        expect(answer.body).toContain(FAIL);
        expect(answer.ms).toBeGreaterThanOrEqual(NOTIFY_BODY_TIMEOUT_MS - 50);
        expect(answer.ms).toBeLessThan(DRIP_BOUND_MS);
        expect(answer.headers.connection).toBe("close");
      }
      expect(h.logs.filter((line) => line.includes('"reason":"TOO_SLOW"'))).toHaveLength(2);
      expect(await snapshotState(h.database.db)).toBe(before);
      recordFigure(`hostile-xml.slow-drip.${kind}`, { deadlineMs: NOTIFY_BODY_TIMEOUT_MS, answeredAfterMs: answers.map((a) => a.ms) });
    });
  }

  it("no external entity was ever fetched", () => {
    expect(canaryHits).toBe(0);
    expect(timings.length).toBeGreaterThan(0);
  });

  it("after all of it, the genuine notifies are applied: the money path still works", async () => {
    const pay = await rawRequest(url, { path: "/wxpay/notify", headers: XML, body: genuine["/wxpay/notify"], timeoutMs: 2000 });
    expect(pay.body).toBe(NOTIFY_SUCCESS_REPLY);
    const order = await h.database.db.selectFrom("orders").select("status").where("id", "=", pendingId).executeTakeFirstOrThrow();
    expect(order.status).toBe("paid");
    const refunded = await rawRequest(url, { path: "/wxpay/refund-notify", headers: XML, body: genuine["/wxpay/refund-notify"], timeoutMs: 2000 });
    expect(refunded.body).toBe(NOTIFY_SUCCESS_REPLY);
    const row = await h.database.db.selectFrom("orders").select("refunded_fee").where("id", "=", refund.orderId).executeTakeFirstOrThrow();
    expect(row.refunded_fee).toBe(refund.refundFee);
  });
});
