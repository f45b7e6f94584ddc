// Property-based tests (fast-check). The XML codec: never throws, never accepts a DTD wherever it sits,
// stays fast on adversarial input. The notify routes under arbitrary and mutated bodies: never a 500,
// nothing changes on a refusal, and a mutated genuine notify is acknowledged only when it still says
// exactly what the genuine one says. The JSON API under arbitrary paths, queries, headers and bodies:
// never a 500, nothing changes on a refusal. routes/validation.test.ts fuzzes request bodies alone.
import { buildXml, NOTIFY_SUCCESS_REPLY, parseRefundNotify, parseXml } from "@pay/core";
import { buildRefundNotify, buildSignedPayNotify } from "@pay/core/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, MERCHANT, startApiHarness, type ApiHarness } from "../support/api-harness.js";
import { DATABASES } from "../support/databases.js";
import { recordFigure } from "./figures.js";
import { createPendingOrder, payNotifyFields, refundPayload, sandboxOrder } from "./fixtures.js";
import { snapshotState } from "./snapshot.js";

const FAIL = "<return_code><![CDATA[FAIL]]></return_code>";

/** Element names, including the ones that must never become keys. */
const fieldName = fc.oneof(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,12}$/), fc.constantFrom("__proto__", "constructor", "prototype", "sign", "total_fee", "xml", "root"));
const fieldText = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom("&amp;", "&lt;", "&#x41;", "&#65;", "&bogus;", "&", "]]>", "<![CDATA[x]]>", "<![CDATA[<!DOCTYPE x>]]>", "<!-- c -->", "<?pi x?>", "<a/>", "<a>1</a>"),
);
/** Documents shaped like v2 messages, often almost valid: the interesting inputs for a strict parser. */
const xmlish = fc
  .tuple(
    fc.constantFrom("", '<?xml version="1.0" encoding="UTF-8"?>', "\uFEFF", " \n"),
    fc.constantFrom("xml", "root", "XML", "xml "),
    fc.array(fc.tuple(fieldName, fieldText, fc.boolean()), { maxLength: 12 }),
    fc.constantFrom("", " ", "trailing", "<xml></xml>"),
  )
  .map(([prolog, root, fields, tail]) => `${prolog}<${root}>${fields.map(([n, v, cdata]) => `<${n}>${cdata ? `<![CDATA[${v}]]>` : v}</${n}>`).join("")}</${root.trim()}>${tail}`);
/** A DTD marker as an attacker would vary it. */
const dtdMarker = fc.constantFrom(
  "<!DOCTYPE xml>",
  "<!doctype xml [ ]>",
  '<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd">',
  '<!ENTITY e "x">',
  "<! DOCTYPE xml>",
  "<!DocType x>",
  "<!ELEMENT a ANY>",
  "<!ATTLIST a b CDATA #IMPLIED>",
);

describe("the XML codec under fast-check", () => {
  it("never throws on arbitrary text, bytes and near-XML, and never returns a value with a prototype or a forbidden key", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          xmlish,
          fc.string({ unit: "grapheme", maxLength: 200 }),
          fc.uint8Array({ maxLength: 400 }),
          xmlish.map((s) => Buffer.from(s, "utf8")),
        ),
        (input) => {
          const parsed = parseXml(input, { root: typeof input === "string" && input.includes("<root>") ? "root" : "xml" });
          if (parsed.ok) {
            expect(Object.getPrototypeOf(parsed.value)).toBeNull();
            for (const key of ["__proto__", "constructor", "prototype"]) expect(Object.hasOwn(parsed.value, key)).toBe(false);
          } else {
            expect(typeof parsed.error.code).toBe("string");
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("never returns a value for a document holding a DTD marker, wherever it is inserted", () => {
    // eslint-disable-next-line no-control-regex -- values XML cannot carry are left out, as buildXml refuses them
    const notXmlText = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
    const valid = fc.dictionary(
      fc.stringMatching(/^[a-z_]{1,10}$/).filter((n) => !["__proto__", "constructor", "prototype"].includes(n)),
      fc.string({ maxLength: 20 }).filter((s) => !notXmlText.test(s)),
      { maxKeys: 8 },
    );
    fc.assert(
      fc.property(valid, dtdMarker, fc.nat(), fc.boolean(), (fields, marker, at, asBytes) => {
        const doc = buildXml(fields);
        const position = at % (doc.length + 1);
        const hostile = `${doc.slice(0, position)}${marker}${doc.slice(position)}`;
        const parsed = parseXml(asBytes ? Buffer.from(hostile) : hostile);
        expect(parsed.ok).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it("stays fast on adversarial 64 KiB documents (no super-linear paths)", () => {
    let slowest = 0;
    fc.assert(
      fc.property(fc.constantFrom("<", "&", "<a>", "<![CDATA[", "&#x", "]]>", "<xml>", "<a></a>", " ", "<!"), fc.constantFrom("", "<xml>", "<xml><a>"), (unit, prefix) => {
        const doc = prefix + unit.repeat(Math.floor((64 * 1024 - prefix.length) / unit.length));
        const started = performance.now();
        parseXml(doc);
        slowest = Math.max(slowest, performance.now() - started);
      }),
      { numRuns: 200 },
    );
    recordFigure("fuzz.xml-codec", { slowest64KiBParseMs: Math.round(slowest * 100) / 100 });
    expect(slowest).toBeLessThan(250);
  });
});

/**
 * What a v2 signature vouches for: every non-empty field (empty ones are not signed), the sign itself
 * compared without regard to case (the verifier accepts lower-case hex).
 */
function signedContent(fields: Readonly<Record<string, string>>): string {
  return JSON.stringify(
    Object.entries(fields)
      .filter(([, value]) => value !== "")
      .map(([name, value]) => [name, name === "sign" ? value.toUpperCase() : value])
      .sort(([a = ""], [b = ""]) => a.localeCompare(b)),
  );
}

/** One edit of a document: insert, delete, replace or duplicate a span. */
const mutation = fc.tuple(
  fc.constantFrom("insert", "delete", "replace", "duplicate", "case"),
  fc.nat(),
  fc.integer({ min: 1, max: 12 }),
  fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("<", ">", "&", "]]>", "<!DOCTYPE x>", "0", "1", " ", "\u0000")),
);
function mutate(doc: string, [op, at, length, text]: [string, number, number, string]): string {
  const i = at % (doc.length + 1);
  switch (op) {
    case "insert":
      return doc.slice(0, i) + text + doc.slice(i);
    case "delete":
      return doc.slice(0, i) + doc.slice(i + length);
    case "replace":
      return doc.slice(0, i) + text + doc.slice(i + text.length);
    case "duplicate":
      return doc.slice(0, i + length) + doc.slice(i, i + length) + doc.slice(i + length);
    default: {
      const ch = doc.charAt(i);
      return doc.slice(0, i) + (ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase()) + doc.slice(i + 1);
    }
  }
}

describe.each(DATABASES)("the notify routes and the JSON API under fast-check on %s", (kind) => {
  let h: ApiHarness;
  const stats = { requests: 0, acknowledgedMutations: 0, refusedMutations: 0, status5xx: 0, slowestMs: 0 };

  beforeAll(async () => {
    h = await startApiHarness(kind, { notifies: "lost" });
  });
  afterAll(async () => {
    recordFigure(`fuzz.http.${kind}`, stats);
    await h.close();
  });

  async function post(route: string, body: string | Uint8Array, contentType = "text/xml"): Promise<{ status: number; text: string }> {
    const started = performance.now();
    const response = await fetch(`${h.url}${route}`, { method: "POST", body, headers: { "content-type": contentType } });
    const text = await response.text();
    stats.requests += 1;
    stats.slowestMs = Math.max(stats.slowestMs, Math.round(performance.now() - started));
    if (response.status >= 500) stats.status5xx += 1;
    return { status: response.status, text };
  }

  it("arbitrary bodies at both notify routes: 200 with FAIL, never a 500, nothing changed", async () => {
    const before = await snapshotState(h.database.db);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("/wxpay/notify", "/wxpay/refund-notify"),
        fc.oneof(xmlish, fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 })),
        fc.constantFrom("text/xml", "application/xml; charset=utf-8"),
        async (route, body, type) => {
          const answer = await post(route, body, type);
          expect(answer.status).toBe(200);
          expect(answer.text).toContain(FAIL);
        },
      ),
      { numRuns: 200 },
    );
    expect(await snapshotState(h.database.db)).toBe(before);
  });

  it("mutated genuine pay notifies: FAIL changes nothing; SUCCESS only when the fields still equal the genuine ones", async () => {
    const { order } = await createPendingOrder(h, `fuzz-pay-${kind}`);
    const genuine = buildSignedPayNotify(payNotifyFields(order), { key: MERCHANT.key, signType: "HMAC-SHA256", omitSignType: true });
    const genuineFields = parseXml(genuine);
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (edits) => {
        const body = edits.reduce((doc, edit) => mutate(doc, edit), genuine);
        const before = await snapshotState(h.database.db);
        const answer = await post("/wxpay/notify", body);
        expect(answer.status).toBe(200);
        if (answer.text === NOTIFY_SUCCESS_REPLY) {
          stats.acknowledgedMutations += 1;
          const fields = parseXml(body);
          expect(fields.ok && genuineFields.ok && signedContent(fields.value) === signedContent(genuineFields.value), body).toBe(true);
        } else {
          stats.refusedMutations += 1;
          expect(answer.text).toContain(FAIL);
          expect(await snapshotState(h.database.db)).toBe(before);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("mutated genuine refund notifies: FAIL changes nothing; SUCCESS only when the decrypted refund is the genuine one", async () => {
    const { order, payment } = await createPendingOrder(h, `fuzz-refund-${kind}`, "mug");
    await h.pay(payment);
    const atGateway = await sandboxOrder(h.sandbox.url, order.id);
    const paid = await post(
      "/wxpay/notify",
      buildSignedPayNotify(payNotifyFields(order, { transaction_id: atGateway.transaction_id ?? "" }), { key: MERCHANT.key, signType: "HMAC-SHA256" }),
    );
    expect(paid.text).toBe(NOTIFY_SUCCESS_REPLY);
    const created = await h.request("POST", `/api/admin/orders/${order.id}/refunds`, {
      body: { refundFee: 200 },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": `fuzz-${kind}` },
    });
    expect(created.status).toBe(201);
    const refund = { orderId: order.id, refundId: (created.body.refund as { id: string }).id, totalFee: order.totalFee, refundFee: 200 };
    const genuine = buildRefundNotify({ appid: MERCHANT.appId, mch_id: MERCHANT.mchId }, refundPayload(refund), MERCHANT.key);
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (edits) => {
        const body = edits.reduce((doc, edit) => mutate(doc, edit), genuine);
        const before = await snapshotState(h.database.db);
        const answer = await post("/wxpay/refund-notify", body);
        expect(answer.status).toBe(200);
        if (answer.text === NOTIFY_SUCCESS_REPLY) {
          stats.acknowledgedMutations += 1;
          const decrypted = parseRefundNotify(body, { key: MERCHANT.key, appId: MERCHANT.appId, mchId: MERCHANT.mchId });
          expect(decrypted.ok && decrypted.value.refund).toMatchObject({ outRefundNo: refund.refundId, outTradeNo: order.id, refundFee: 200, refundStatus: "SUCCESS" });
        } else {
          stats.refusedMutations += 1;
          expect(answer.text).toContain(FAIL);
          expect(await snapshotState(h.database.db)).toBe(before);
        }
      }),
      { numRuns: 150 },
    );
    const row = await h.database.db.selectFrom("orders").select("refunded_fee").where("id", "=", order.id).executeTakeFirstOrThrow();
    expect([0, 200]).toContain(row.refunded_fee);
  });

  it("arbitrary paths, queries, headers and bodies on the JSON API: never a 500; a refusal is a coded error and changes nothing", async () => {
    const token = await h.signIn(`fuzz-json-${kind}`);
    const { order } = await createPendingOrder(h, `fuzz-json-${kind}`);
    // Header values fetch can send: visible ASCII and spaces.
    const headerText = fc.string({ maxLength: 80 }).map((s) => s.replace(/[^\x20-\x7e]/g, "").trim());
    const segment = fc.oneof(
      fc.constant(order.id),
      fc.string({ maxLength: 40 }).map(encodeURIComponent),
      fc.constantFrom("..", "%2e%2e", "%00", "P" + "0".repeat(40), "__proto__", "constructor"),
    );
    const request = fc.record({
      route: fc.constantFrom(
        "GET /api/orders/:id",
        "POST /api/orders/:id/payment",
        "POST /api/orders/:id/close",
        "POST /api/admin/orders/:id/refunds",
        "GET /api/orders",
        "POST /api/orders",
        "POST /api/session",
      ),
      id: segment,
      query: fc.dictionary(fc.constantFrom("limit", "cursor", "bogus", "__proto__", "limit[]"), fc.string({ maxLength: 30 }), { maxKeys: 3 }),
      auth: fc.oneof(
        fc.constant("user"),
        fc.constant("admin"),
        fc.constant("none"),
        headerText.map((s) => `raw:${s}`),
      ),
      idempotencyKey: fc.option(headerText, { nil: undefined }),
      contentType: fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "application/json-patch+json"),
      body: fc.option(
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
          fc.string({ maxLength: 100 }),
          fc.constantFrom("{", '{"items":[{"productId":"mug","quantity":1e309}]}', '{"refundFee":1e400}', '{"__proto__":{"admin":true}}', '{"code":"x","constructor":{}}'),
        ),
        { nil: undefined },
      ),
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const [method = "GET", template = "/"] = r.route.split(" ");
        const search = new URLSearchParams(Object.entries(r.query)).toString();
        const path = `${template.replace(":id", r.id)}${search === "" ? "" : `?${search}`}`;
        const headers: Record<string, string> = { "content-type": r.contentType };
        if (r.auth === "user") headers.authorization = `Bearer ${token}`;
        else if (r.auth === "admin") headers.authorization = `Bearer ${ADMIN_TOKEN}`;
        else if (r.auth.startsWith("raw:")) headers.authorization = r.auth.slice(4);
        if (r.idempotencyKey !== undefined) headers["idempotency-key"] = r.idempotencyKey;
        const before = await snapshotState(h.database.db);
        const started = performance.now();
        const response = await fetch(`${h.url}${path}`, { method, headers, ...(r.body === undefined || method === "GET" ? {} : { body: r.body }) });
        const text = await response.text();
        stats.requests += 1;
        stats.slowestMs = Math.max(stats.slowestMs, Math.round(performance.now() - started));
        if (response.status >= 500) stats.status5xx += 1;
        expect(response.status, `${method} ${path} -> ${text}`).toBeLessThan(500);
        if (response.status >= 400) {
          expect(JSON.parse(text)).toMatchObject({ error: { code: expect.any(String) as string, message: expect.any(String) as string } });
          expect(await snapshotState(h.database.db)).toBe(before);
        }
      }),
      { numRuns: 250 },
    );
    expect(stats.status5xx).toBe(0);
  });
});
