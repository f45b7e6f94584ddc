import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, expectTypeOf, it } from "vitest";
import { WEBHOOK_EVENT_TYPES, type WebhookEvent } from "../contract/webhook.js";
import type { Result } from "../result.js";
import { buildTestWebhookEvent, signWebhookForTest } from "../testing/webhooks.js";
import { webhookSignature, webhookSignatureHeader } from "./sign.js";
import { DEFAULT_WEBHOOK_TOLERANCE_SECONDS, MAX_WEBHOOK_SIGNATURE_HEADER_LENGTH, verifyWebhook, WEBHOOK_VERIFY_ERROR_CODES, type WebhookVerifyErrorCode } from "./verify.js";

const SECRET = "whsec_5Qm9xVb2Lr8Tn4Kd7Wz3Hj6Pc1Fy0Ga";
const PREVIOUS = "whsec_prev_8Jd2Nw5Rt9Lx3Qv7Bm1Kc4Zs6Hy";
const T = 1733212800;
const AT_T = { now: T * 1000 };

// Known answers computed with OpenSSL 3.0 when this test was written, independently of node:crypto (the order.paid
// vector is the one docs/webhooks.md shows):
//   printf '%s' "1733212800.$PAID_BODY" | openssl dgst -sha256 -hmac 'whsec_5Qm9xVb2Lr8Tn4Kd7Wz3Hj6Pc1Fy0Ga'
//   printf '%s' "1733212800.$PAID_BODY" | openssl dgst -sha256 -hmac 'whsec_prev_8Jd2Nw5Rt9Lx3Qv7Bm1Kc4Zs6Hy'
//   printf '%s' "1733213190.$REFUND_BODY" | openssl dgst -sha256 -hmac 'whsec_5Qm9xVb2Lr8Tn4Kd7Wz3Hj6Pc1Fy0Ga'   (a UTF-8 terminal: the reason is 21 bytes)
const PAID_BODY =
  '{"id":"evt_4fQx8ZkT1mN3pR7sV2wY9bC6","type":"order.paid","createdAt":"2024-12-03T07:59:58.000Z","data":{"order":{"id":"P20241203155841K7M2Q9XH4T","status":"paid","totalFee":2590,"refundedFee":0,"feeType":"CNY","items":[{"productId":"latte-m","name":"Oat latte (M)","quantity":2,"unitPrice":1000},{"productId":"croissant","name":"Butter croissant","quantity":1,"unitPrice":590}],"createdAt":"2024-12-03T07:58:41.000Z","paidAt":"2024-12-03T07:59:58.000Z","transactionId":"4200002391202412031234567890"}}}';
const PAID_V1 = "fcb13723f033d72673db95219b07b34dd0a6378462aaeaf4f45945b70b32f0e6";
const PAID_V1_PREVIOUS = "1efb2ade4e59d1dae92e4ae3d03af40bf405de2d9d9ea1c5ccbba5d1d3d2c309";
const REFUND_BODY =
  '{"id":"evt_9aB3cD5eF7gH1jK2mN4pQ6rS","type":"refund.succeeded","createdAt":"2024-12-03T08:06:30.000Z","data":{"refund":{"id":"R20241203160512B3N8V6WC2P","orderId":"P20241203155841K7M2Q9XH4T","refundFee":1000,"currency":"CNY","status":"succeeded","reason":"少做了一杯拿铁","createdAt":"2024-12-03T08:05:12.000Z","succeededAt":"2024-12-03T08:06:30.000Z"}}}';
const REFUND_V1 = "e37fc4e85aec05a8799af65d5a580d1976b823536a49252b53b162abe707796f";
const PAID_HEADER = `t=${T},v1=${PAID_V1}`;

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function refusal(result: Result<WebhookEvent, WebhookVerifyErrorCode>): { code: WebhookVerifyErrorCode; message: string } {
  if (result.ok) throw new Error(`expected a refusal, got the event ${result.value.id}`);
  return result.error;
}

describe("verifyWebhook: known answers (computed with openssl)", () => {
  it.each([
    ["order.paid as a string", PAID_BODY, T, PAID_V1],
    ["order.paid as bytes", bytes(PAID_BODY), T, PAID_V1],
    ["refund.succeeded with a Chinese reason as a string", REFUND_BODY, 1733213190, REFUND_V1],
    ["refund.succeeded with a Chinese reason as bytes", bytes(REFUND_BODY), 1733213190, REFUND_V1],
  ])("accepts %s and returns the typed event", (_name, body, t, v1) => {
    const result = verifyWebhook(body, `t=${t},v1=${v1}`, SECRET, { now: t * 1000 });
    expect(result).toEqual({ ok: true, value: JSON.parse(typeof body === "string" ? body : new TextDecoder().decode(body)) as unknown });
  });

  it("agrees with the signer on the same vector (the two cannot drift)", () => {
    expect(webhookSignature(SECRET, T, PAID_BODY)).toBe(PAID_V1);
    expect(webhookSignature(PREVIOUS, T, PAID_BODY)).toBe(PAID_V1_PREVIOUS);
    expect(webhookSignatureHeader(PAID_BODY, [SECRET, PREVIOUS], T)).toBe(`t=${T},v1=${PAID_V1},v1=${PAID_V1_PREVIOUS}`);
  });

  it("is the vector docs/webhooks.md shows (its order.paid example, compacted, is this body)", () => {
    const doc = readFileSync(new URL("../../../../docs/webhooks.md", import.meta.url), "utf8");
    const example = /```json\n(\{\n {2}"id": "evt_4fQx8ZkT1mN3pR7sV2wY9bC6"[\s\S]*?)```/.exec(doc)?.[1];
    expect(JSON.stringify(JSON.parse(example ?? "null"))).toBe(PAID_BODY);
    expect(doc).toContain(`Pay-Signature: ${PAID_HEADER}`);
    expect(doc).toContain(`-hmac '${SECRET}'`);
    expect(doc).toContain(`SHA2-256(stdin)= ${PAID_V1}`);
  });

  it("types the value as a WebhookEvent and narrows on type", () => {
    const result = verifyWebhook(PAID_BODY, PAID_HEADER, SECRET, AT_T);
    expectTypeOf(result).toEqualTypeOf<Result<WebhookEvent, WebhookVerifyErrorCode>>();
    if (!result.ok || result.value.type !== "order.paid") throw new Error("expected order.paid");
    expectTypeOf(result.value.data.order.totalFee).toEqualTypeOf<number>();
    expect(result.value.data.order).toMatchObject({ id: "P20241203155841K7M2Q9XH4T", totalFee: 2590, feeType: "CNY" });
  });

  it("takes now as a Date too", () => {
    expect(verifyWebhook(PAID_BODY, PAID_HEADER, SECRET, { now: new Date(T * 1000) }).ok).toBe(true);
  });

  it("exports its codes", () => {
    expect(WEBHOOK_VERIFY_ERROR_CODES).toEqual(["MALFORMED_HEADER", "SIGNATURE_MISMATCH", "TIMESTAMP_OUT_OF_TOLERANCE", "MALFORMED_BODY", "INVALID_EVENT"]);
  });
});

describe("verifyWebhook: tampering is refused with SIGNATURE_MISMATCH", () => {
  const swapped = PAID_BODY.replace('"totalFee":2590', '"totalFee":2591');
  it.each([
    ["one body byte changed (2590 -> 2591)", swapped, PAID_HEADER],
    ["a space added to the body", PAID_BODY + " ", PAID_HEADER],
    ["the body re-serialised with spaces", JSON.stringify(JSON.parse(PAID_BODY), null, 1), PAID_HEADER],
    ["the timestamp changed by one second", PAID_BODY, `t=${T + 1},v1=${PAID_V1}`],
    ["v1 truncated by one character", PAID_BODY, `t=${T},v1=${PAID_V1.slice(0, -1)}`],
    ["v1 one character longer", PAID_BODY, `t=${T},v1=${PAID_V1}0`],
    ["v1 in uppercase hex", PAID_BODY, `t=${T},v1=${PAID_V1.toUpperCase()}`],
    ["v1 empty", PAID_BODY, `t=${T},v1=`],
    ["a space inside the v1 value", PAID_BODY, `t=${T},v1= ${PAID_V1}`],
    ["the signature under another scheme name only (v0=good, v1=bad)", PAID_BODY, `t=${T},v0=${PAID_V1},v1=${"0".repeat(64)}`],
  ])("%s", (_name, body, header) => {
    const error = refusal(verifyWebhook(body, header, SECRET, AT_T));
    expect(error.code).toBe("SIGNATURE_MISMATCH");
    expect(error.message).toContain("No v1 value of Pay-Signature");
    expect(error.message).toContain("verify the raw bytes");
  });

  it("a wrong secret", () => {
    const error = refusal(verifyWebhook(PAID_BODY, PAID_HEADER, "whsec_wrong_wrong_wrong_wrong_wrong", AT_T));
    expect(error).toEqual({
      code: "SIGNATURE_MISMATCH",
      message:
        "No v1 value of Pay-Signature matches the body under any of the 1 secret(s) given: a wrong or rotated secret, a body changed on the way, or a body re-serialised after parsing (verify the raw bytes).",
    });
  });

  it("says when v1 values are not 64 lowercase hex characters", () => {
    const error = refusal(verifyWebhook(PAID_BODY, `t=${T},v1=${PAID_V1.toUpperCase()},v1=abc`, SECRET, AT_T));
    expect(error.message).toContain("(2 of them not 64 lowercase hex characters)");
  });

  it("checks the signature before the time: a forged old delivery is a mismatch, not a clock problem", () => {
    expect(refusal(verifyWebhook(swapped, PAID_HEADER, SECRET, { now: (T + 3600) * 1000 })).code).toBe("SIGNATURE_MISMATCH");
  });

  it("checks the signature before parsing: a forged body that is not JSON is a mismatch", () => {
    expect(refusal(verifyWebhook("not json", PAID_HEADER, SECRET, AT_T)).code).toBe("SIGNATURE_MISMATCH");
  });
});

describe("verifyWebhook: Pay-Signature parsing", () => {
  // Accepted: RFC 9110 list syntax, i.e. spaces or tabs around elements (a proxy joining two header lines writes ", ")
  // and empty elements; unknown schemes. Refused: anything else about the shape.
  it.each([
    ["a space after each comma", `t=${T}, v1=${PAID_V1}`],
    ["spaces and tabs around the whole value and the elements", ` \tt=${T} ,\tv1=${PAID_V1}\t `],
    ["empty elements (a trailing comma, two commas)", `t=${T},,v1=${PAID_V1},`],
    ["v1 before t", `v1=${PAID_V1},t=${T}`],
    ["unknown schemes around the good v1 (v0=, v2=, future keys)", `t=${T},v0=deadbeef,v1=${PAID_V1},v2=${"a".repeat(64)},kid=2`],
    ["a bad v1 beside the good one", `t=${T},v1=${"0".repeat(64)},v1=${PAID_V1}`],
  ])("accepts %s", (_name, header) => {
    expect(verifyWebhook(PAID_BODY, header, SECRET, AT_T).ok).toBe(true);
  });

  it.each([
    ["undefined (no header)", undefined, "Pay-Signature is missing (a proxy may have stripped it)."],
    ["null (no header)", null, "Pay-Signature is missing (a proxy may have stripped it)."],
    ["an empty header (Koa's ctx.get for a missing one)", "", "Pay-Signature is missing (a proxy may have stripped it)."],
    ["no t=", `v1=${PAID_V1}`, "Pay-Signature has no t= (the signing time)."],
    ["only whitespace and commas", " , ,", "Pay-Signature has no t= (the signing time)."],
    ["a spaced key (t =)", `t =${T},v1=${PAID_V1}`, "Pay-Signature has no t= (the signing time)."],
    ["an uppercase key (T=)", `T=${T},v1=${PAID_V1}`, "Pay-Signature has no t= (the signing time)."],
    ["a fractional t", `t=${T}.5,v1=${PAID_V1}`, "Pay-Signature t= is not whole unix seconds."],
    ["milliseconds in t (13 digits)", `t=${T}000,v1=${PAID_V1}`, "Pay-Signature t= is not whole unix seconds."],
    ["a negative t", `t=-${T},v1=${PAID_V1}`, "Pay-Signature t= is not whole unix seconds."],
    ["an exponent in t", `t=1.7e9,v1=${PAID_V1}`, "Pay-Signature t= is not whole unix seconds."],
    ["a leading zero in t", `t=0${T},v1=${PAID_V1}`, "Pay-Signature t= is not whole unix seconds."],
    ["a plus sign in t", `t=+${T},v1=${PAID_V1}`, "Pay-Signature t= is not whole unix seconds."],
    ["an empty t", `t=,v1=${PAID_V1}`, "Pay-Signature t= is not whole unix seconds."],
    ["a space inside t=", `t= ${T},v1=${PAID_V1}`, "Pay-Signature t= is not whole unix seconds."],
    ["two t= (even equal ones)", `t=${T},t=${T},v1=${PAID_V1}`, "Pay-Signature has more than one t=."],
    ["two header lines joined by a proxy", `t=${T},v1=${PAID_V1}, t=${T},v1=${PAID_V1}`, "Pay-Signature has more than one t=."],
    ["no v1 (only other schemes)", `t=${T},v0=${PAID_V1},v2=${PAID_V1}`, "Pay-Signature has no v1= signature."],
    ["an element that is not key=value", `t=${T},${PAID_V1}`, "Pay-Signature has an element that is not key=value."],
    ["an element with an empty key", `t=${T},=${PAID_V1}`, "Pay-Signature has an element that is not key=value."],
    ["a value 4097 characters long", `t=${T},v1=${PAID_V1},v0=${"a".repeat(MAX_WEBHOOK_SIGNATURE_HEADER_LENGTH)}`, "Pay-Signature is longer than 4096 characters."],
  ])("refuses %s with MALFORMED_HEADER", (_name, header, message) => {
    expect(refusal(verifyWebhook(PAID_BODY, header, SECRET, AT_T))).toEqual({ code: "MALFORMED_HEADER", message });
  });

  it("accepts a header of exactly 4096 characters", () => {
    const padding = `,v0=${"a".repeat(MAX_WEBHOOK_SIGNATURE_HEADER_LENGTH - PAID_HEADER.length - 4)}`;
    expect((PAID_HEADER + padding).length).toBe(MAX_WEBHOOK_SIGNATURE_HEADER_LENGTH);
    expect(verifyWebhook(PAID_BODY, PAID_HEADER + padding, SECRET, AT_T).ok).toBe(true);
  });

  it("refuses a header array (a runtime mistake in JavaScript) with MALFORMED_HEADER", () => {
    const header = [PAID_HEADER] as unknown as string;
    expect(refusal(verifyWebhook(PAID_BODY, header, SECRET, AT_T))).toEqual({ code: "MALFORMED_HEADER", message: "Pay-Signature is not a single header value." });
  });
});

describe("verifyWebhook: tolerance", () => {
  const at = (seconds: number, toleranceSeconds?: number) =>
    verifyWebhook(PAID_BODY, PAID_HEADER, SECRET, toleranceSeconds === undefined ? { now: seconds * 1000 } : { now: seconds * 1000, toleranceSeconds });

  it("defaults to 300 s", () => {
    expect(DEFAULT_WEBHOOK_TOLERANCE_SECONDS).toBe(300);
  });

  it("accepts a signature exactly 300 s old, and one 300.999 s old (whole seconds are compared)", () => {
    expect(at(T + 300).ok).toBe(true);
    expect(verifyWebhook(PAID_BODY, PAID_HEADER, SECRET, { now: (T + 300) * 1000 + 999 }).ok).toBe(true);
  });

  it("refuses one 301 s old and says how old", () => {
    expect(refusal(at(T + 301))).toEqual({
      code: "TIMESTAMP_OUT_OF_TOLERANCE",
      message: "Pay-Signature t=1733212800 is 301 s in the past; more than 300 s is refused (a replay, or a clock that is behind).",
    });
  });

  it("accepts a signature 300 s in the future and refuses 301 s, saying which way", () => {
    expect(at(T - 300).ok).toBe(true);
    expect(refusal(at(T - 301))).toEqual({
      code: "TIMESTAMP_OUT_OF_TOLERANCE",
      message: "Pay-Signature t=1733212800 is 301 s in the future; more than 300 s is refused (one of the two clocks is wrong).",
    });
  });

  it("takes another tolerance, including 0 (the same second only)", () => {
    expect(at(T + 3600, 3600).ok).toBe(true);
    expect(refusal(at(T + 3601, 3600)).message).toContain("3601 s in the past; more than 3600 s");
    expect(at(T, 0).ok).toBe(true);
    expect(refusal(at(T + 1, 0)).code).toBe("TIMESTAMP_OUT_OF_TOLERANCE");
    expect(refusal(at(T - 1, 0)).message).toContain("1 s in the future");
  });
});

describe("verifyWebhook: rotation", () => {
  const rotated = `t=${T},v1=${PAID_V1},v1=${PAID_V1_PREVIOUS}`;

  it("accepts two v1 values (the sender rotating) with either secret", () => {
    expect(verifyWebhook(PAID_BODY, rotated, SECRET, AT_T).ok).toBe(true);
    expect(verifyWebhook(PAID_BODY, rotated, PREVIOUS, AT_T).ok).toBe(true);
    expect(verifyWebhook(PAID_BODY, rotated, [PREVIOUS], AT_T).ok).toBe(true);
  });

  it("accepts a list of secrets (the receiver rotating) whichever one signed", () => {
    expect(verifyWebhook(PAID_BODY, `t=${T},v1=${PAID_V1_PREVIOUS}`, [SECRET, PREVIOUS], AT_T).ok).toBe(true);
    expect(verifyWebhook(PAID_BODY, PAID_HEADER, [PREVIOUS, SECRET], AT_T).ok).toBe(true);
  });

  it("refuses when no secret in the list signed, and counts them", () => {
    const error = refusal(verifyWebhook(PAID_BODY, PAID_HEADER, [PREVIOUS, "whsec_another_another_another_1"], AT_T));
    expect(error.code).toBe("SIGNATURE_MISMATCH");
    expect(error.message).toContain("any of the 2 secret(s) given");
  });
});

describe("verifyWebhook: the body, once the signature is good", () => {
  const signed = (body: string | Uint8Array) => verifyWebhook(body, webhookSignatureHeader(body, [SECRET], T), SECRET, AT_T);

  it("refuses bytes that are not UTF-8 with MALFORMED_BODY (decoded fatally, never replaced)", () => {
    const body = Uint8Array.from([...bytes('{"id":"'), 0xff, 0xfe, ...bytes('"}')]);
    expect(refusal(signed(body))).toEqual({ code: "MALFORMED_BODY", message: "The body is not UTF-8 text, though its signature is good." });
    expect(refusal(signed(Uint8Array.from([0xc3, 0x28]))).code).toBe("MALFORMED_BODY");
  });

  it.each([
    ["text that is not JSON", "hello"],
    ["an empty body", ""],
    ["JSON cut short", PAID_BODY.slice(0, -1)],
    ["a byte order mark before the JSON (kept, so refused)", `\uFEFF${PAID_BODY}`],
  ])("refuses %s with MALFORMED_BODY", (_name, body) => {
    const error = refusal(signed(bytes(body)));
    expect(error.code).toBe("MALFORMED_BODY");
    expect(error.message).toMatch(/^The body is not JSON, though its signature is good: /);
  });

  it("refuses a payload missing data.order with INVALID_EVENT naming data.order", () => {
    const event = buildTestWebhookEvent("order.paid");
    const body = JSON.stringify({ ...event, data: {} });
    expect(refusal(signed(body))).toEqual({
      code: "INVALID_EVENT",
      message: "The body is signed JSON but not a webhook event this version of @pay/core knows: data.order: Invalid input: expected object, received undefined.",
    });
  });

  it("names a nested path with array indexes", () => {
    const event = buildTestWebhookEvent("order.paid");
    const items = [event.data.order.items[0], { ...event.data.order.items[1], quantity: 0 }];
    const error = refusal(signed(JSON.stringify({ ...event, data: { order: { ...event.data.order, items } } })));
    expect(error.code).toBe("INVALID_EVENT");
    expect(error.message).toContain("data.order.items[1].quantity: ");
  });

  it("names the type of an event this version does not know", () => {
    const error = refusal(signed(JSON.stringify({ ...buildTestWebhookEvent("order.paid"), type: "order.shipped" })));
    expect(error.code).toBe("INVALID_EVENT");
    expect(error.message).toContain("type: ");
  });

  it("shows at most three problems and counts the rest", () => {
    const error = refusal(signed(JSON.stringify({ id: 1, type: "order.paid", createdAt: 2, data: { order: { id: "P20241203155841K7M2Q9XH4T" } } })));
    expect(error.code).toBe("INVALID_EVENT");
    expect(error.message).toMatch(
      /^The body is signed JSON but not a webhook event this version of @pay\/core knows: id: .*; createdAt: .*; data\.order\.status: .* \(and \d+ more\)\.$/,
    );
  });

  it.each([
    ["an array", "[]"],
    ["a number", "42"],
    ["null", "null"],
  ])("refuses %s as the whole body with INVALID_EVENT", (_name, body) => {
    const error = refusal(signed(body));
    expect(error.code).toBe("INVALID_EVENT");
    expect(error.message).toContain("knows: (the body): ");
  });

  it.each(WEBHOOK_EVENT_TYPES)("parses a signed %s event", (type) => {
    const event = buildTestWebhookEvent(type);
    const delivery = signWebhookForTest(event, SECRET, { timestamp: T });
    expect(verifyWebhook(delivery.body, delivery.headers["Pay-Signature"], SECRET, AT_T)).toEqual({ ok: true, value: event });
  });
});

describe("verifyWebhook: misuse throws", () => {
  it.each([
    ["no secret", [] as string[], /at least one secret/],
    ["an empty secret", "", /non-empty strings/],
    ["an empty secret in a list", [SECRET, ""], /non-empty strings/],
  ])("%s is a RangeError", (_name, secrets, message) => {
    expect(() => verifyWebhook(PAID_BODY, PAID_HEADER, secrets, AT_T)).toThrow(RangeError);
    expect(() => verifyWebhook(PAID_BODY, PAID_HEADER, secrets, AT_T)).toThrow(message);
  });

  it.each([[-1], [1.5], [Number.NaN], [Number.POSITIVE_INFINITY]])("a tolerance of %s is a RangeError", (toleranceSeconds) => {
    expect(() => verifyWebhook(PAID_BODY, PAID_HEADER, SECRET, { now: T * 1000, toleranceSeconds })).toThrow(RangeError);
  });

  it.each([[Number.NaN], [-1], [new Date("not a date")]])("a now of %s is a RangeError", (now) => {
    expect(() => verifyWebhook(PAID_BODY, PAID_HEADER, SECRET, { now })).toThrow(new RangeError("verifyWebhook's now is a valid Date or epoch milliseconds."));
  });

  it("a parsed body is a TypeError that explains the raw-body mistake", () => {
    const parsed = JSON.parse(PAID_BODY) as unknown as string;
    expect(() => verifyWebhook(parsed, PAID_HEADER, SECRET, AT_T)).toThrow(TypeError);
    expect(() => verifyWebhook(parsed, PAID_HEADER, SECRET, AT_T)).toThrow(/got object: a JSON body parser ran first.*express\.raw/);
  });

  it("throws for misuse even when the header is also bad (misuse is found first)", () => {
    expect(() => verifyWebhook(PAID_BODY, undefined, [], AT_T)).toThrow(RangeError);
  });
});

describe("verifyWebhook: properties", () => {
  const secretArb = fc.string({ minLength: 1, maxLength: 80, unit: "grapheme" });
  // From 300 s after the epoch, so that `now` (t plus a skew of up to ±300 s) is never before it.
  const timestampArb = fc.integer({ min: 300, max: 99_999_999_999 });
  const eventArb = fc
    .record({
      type: fc.constantFrom(...WEBHOOK_EVENT_TYPES),
      text: fc.string({ maxLength: 60, unit: "grapheme" }),
      fee: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    })
    .map(({ type, text, fee }) => {
      const event = buildTestWebhookEvent(type);
      return "order" in event.data
        ? { ...event, data: { order: { ...event.data.order, totalFee: fee, items: [{ productId: "p1", name: text, quantity: 1, unitPrice: fee }] } } }
        : { ...event, data: { refund: { ...event.data.refund, refundFee: fee, reason: text } } };
    }) as fc.Arbitrary<WebhookEvent>;

  it("round-trips: whatever the event, secrets and time, what is signed verifies to the same event", () => {
    fc.assert(
      fc.property(eventArb, fc.array(secretArb, { minLength: 1, maxLength: 3 }), timestampArb, fc.integer({ min: -300, max: 300 }), (event, secrets, timestamp, skew) => {
        const delivery = signWebhookForTest(event, secrets, { timestamp });
        const now = (timestamp + skew) * 1000;
        for (const secret of secrets) {
          expect(verifyWebhook(delivery.body, delivery.headers["Pay-Signature"], secret, { now })).toEqual({ ok: true, value: event });
          expect(verifyWebhook(bytes(delivery.body), delivery.headers["Pay-Signature"], [secret], { now })).toEqual({ ok: true, value: event });
        }
      }),
      { numRuns: 200 },
    );
  });

  it("any body, JSON or not, that is signed passes the signature (only the body checks can refuse it)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), secretArb, timestampArb, (body, secret, timestamp) => {
        const result = verifyWebhook(body, webhookSignatureHeader(body, [secret], timestamp), secret, { now: timestamp * 1000 });
        expect(result.ok).toBe(false);
        expect(["MALFORMED_BODY", "INVALID_EVENT"]).toContain(refusal(result).code);
      }),
      { numRuns: 200 },
    );
  });

  it("changing any one byte of a signed body is refused with SIGNATURE_MISMATCH", () => {
    fc.assert(
      fc.property(eventArb, secretArb, timestampArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (event, secret, timestamp, position, flip) => {
        const delivery = signWebhookForTest(event, secret, { timestamp });
        const body = bytes(delivery.body);
        const index = position % body.length;
        body[index] = (body[index] ?? 0) ^ flip;
        expect(refusal(verifyWebhook(body, delivery.headers["Pay-Signature"], secret, { now: timestamp * 1000 })).code).toBe("SIGNATURE_MISMATCH");
      }),
      { numRuns: 300 },
    );
  });
});
