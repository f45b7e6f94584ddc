import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { readV3NotifyEnvelope, V3NotifyEnvelopeSchema } from "./envelope.js";
import { readV3RefundNotify, readV3TransactionNotify, V3RefundNotifySchema, V3TransactionNotifySchema } from "./payloads.js";
import { parseV3Time } from "./read-fields.js";

// The hand-written readers must accept exactly what the zod schemas accept, and build the same values.

const transaction = {
  appid: "wxfc0e36204345c206",
  mchid: "1642979517",
  out_trade_no: "1654747149419622403202305061517",
  transaction_id: "4200001863202305068344507881",
  trade_type: "JSAPI",
  trade_state: "SUCCESS",
  trade_state_desc: "支付成功",
  bank_type: "OTHERS",
  attach: "5_21",
  success_time: "2023-05-06T15:17:31+08:00",
  payer: { openid: "oPuGI5V0_LybXP5_fmDLmW1Aiggw" },
  amount: { total: 100, payer_total: 90, currency: "CNY", payer_currency: "CNY" },
  promotion_detail: [],
};
const refund = {
  mchid: "1900000100",
  transaction_id: "1008450740201411110005820873",
  out_trade_no: "20150806125346",
  refund_id: "50200207182018070300011301001",
  out_refund_no: "7752501201407033233368018",
  refund_status: "SUCCESS",
  success_time: "2018-06-08T10:34:56+08:00",
  user_received_account: "招商银行信用卡0403",
  amount: { total: 999, refund: 999, payer_total: 999, payer_refund: 999 },
};
const envelope = {
  id: "7f8fcdb2-573a-547a-901e-4c34f9761293",
  create_time: "2026-03-01T20:00:00+08:00",
  resource_type: "encrypt-resource",
  event_type: "TRANSACTION.SUCCESS",
  summary: "支付成功",
  resource: { original_type: "transaction", algorithm: "AEAD_AES_256_GCM", ciphertext: "YWJj", associated_data: "transaction", nonce: "abcdefghijkl" },
};

/** Values a hostile or broken gateway might put in any field. */
const anyValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.boolean(),
  fc.integer({ min: -5, max: 1_000 }),
  fc.constantFrom(1.5, -0, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 1e300),
  fc.string({ maxLength: 8 }),
  fc.constantFrom("", "x".repeat(33), "x".repeat(65), "x".repeat(257), "CNY", "USD", "XXX", "SUCCESS", "NOTPAY", "CLOSED", "ABNORMAL", "AEAD_AES_256_GCM"),
  fc.constantFrom("2018-06-08T10:34:56Z", "2018-06-08T10:34:56.123+08:00", "2018-13-40T10:34:56+08:00", "2018-06-08 10:34:56", "REFUND.SUCCESS", "a.b"),
  fc.constantFrom({ openid: "o" }, { openid: 1 }, { type: "SETTLEMENT_RATE", rate: 80000000 }, { type: 1, rate: 1 }, { total: 1 }, { refund: 2, currency: "JPY" }),
);

/** The base record with some top-level or nested fields replaced, removed or added. */
function mutated(base: Record<string, unknown>, nested: readonly string[]) {
  const keys = [...Object.keys(base), "id", "sp_mchid", "sub_mchid", "sp_appid", "sub_appid", "exchange_rate", "create_time", "channel"];
  return fc
    .tuple(
      fc.dictionary(fc.constantFrom(...keys), anyValue, { maxKeys: 3 }),
      fc.constantFrom(...nested),
      fc.dictionary(
        fc.constantFrom(
          ...keys,
          "total",
          "refund",
          "currency",
          "payer_currency",
          "exchange_rate",
          "payer_total",
          "payer_refund",
          "openid",
          "algorithm",
          "ciphertext",
          "nonce",
          "associated_data",
          "original_type",
        ),
        anyValue,
        { maxKeys: 2 },
      ),
    )
    .map(([top, where, inner]) => {
      const record: Record<string, unknown> = { ...base, ...top };
      const child = record[where];
      if (typeof child === "object" && child !== null && !Array.isArray(child)) record[where] = { ...child, ...inner };
      for (const [k, v] of Object.entries(record)) if (v === undefined) delete record[k];
      return record;
    });
}

function agrees<T>(
  schema: z.ZodType<T>,
  read: (raw: Record<string, unknown>) => { ok: true; value: T } | { ok: false; error: { code: string } },
  raw: Record<string, unknown>,
): void {
  const expected = schema.safeParse(raw);
  const actual = read(raw);
  if (expected.success) expect(actual).toEqual({ ok: true, value: expected.data });
  else expect(actual).toMatchObject({ ok: false, error: { code: "INVALID_FIELD" } });
}

describe("hand-written notify readers against the zod schemas", () => {
  it("read the valid bases to the schemas' values", () => {
    expect(readV3TransactionNotify(transaction)).toEqual({ ok: true, value: V3TransactionNotifySchema.parse(transaction) });
    expect(readV3RefundNotify(refund)).toEqual({ ok: true, value: V3RefundNotifySchema.parse(refund) });
    const parsedEnvelope = V3NotifyEnvelopeSchema.parse(envelope);
    expect(readV3NotifyEnvelope(envelope)).toEqual({
      ok: true,
      value: {
        id: parsedEnvelope.id,
        createTime: parsedEnvelope.create_time,
        resourceType: parsedEnvelope.resource_type,
        eventType: parsedEnvelope.event_type,
        summary: parsedEnvelope.summary,
        resource: { originalType: "transaction", ciphertext: "YWJj", associatedData: "transaction", nonce: "abcdefghijkl" },
      },
    });
  });

  it("agree on every mutated transaction", () => {
    fc.assert(
      fc.property(mutated(transaction, ["amount", "payer"]), (raw) => agrees(V3TransactionNotifySchema, readV3TransactionNotify, raw)),
      { numRuns: 2000 },
    );
  });

  it("agree on every mutated refund", () => {
    fc.assert(
      fc.property(mutated(refund, ["amount"]), (raw) => agrees(V3RefundNotifySchema, readV3RefundNotify, raw)),
      { numRuns: 2000 },
    );
  });

  it("agree on every mutated envelope (accept or refuse)", () => {
    fc.assert(
      fc.property(mutated(envelope, ["resource"]), (raw) => {
        const expected = V3NotifyEnvelopeSchema.safeParse(raw);
        const actual = readV3NotifyEnvelope(raw);
        expect(actual.ok).toBe(expected.success);
        if (actual.ok && expected.success) {
          expect(actual.value.createTime).toEqual(expected.data.create_time);
          expect(actual.value.resource?.ciphertext).toBe(expected.data.resource?.ciphertext);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("refuse a non-object envelope and name the field they refuse", () => {
    expect(readV3NotifyEnvelope([])).toMatchObject({ ok: false, error: { code: "INVALID_FIELD", message: "Notify field (root): expected object" } });
    expect(readV3TransactionNotify({ ...transaction, amount: { total: 1.5 } })).toMatchObject({
      ok: false,
      error: { code: "INVALID_FIELD", message: "Transaction field amount.total: expected a non-negative whole number of minor units" },
    });
    const refused = readV3RefundNotify({ ...refund, refund_status: "DONE" });
    expect(refused.ok ? "accepted" : refused.error.message).toContain("Refund field refund_status");
  });

  it("reads RFC 3339 times with an offset only", () => {
    expect(parseV3Time("2018-06-08T10:34:56+08:00")?.toISOString()).toBe("2018-06-08T02:34:56.000Z");
    expect(parseV3Time("2018-06-08T10:34:56.5Z")?.toISOString()).toBe("2018-06-08T10:34:56.500Z");
    expect(parseV3Time("2018-06-08T10:34:56")).toBeUndefined();
    expect(parseV3Time("2018-02-30T10:34:56+08:00")?.toISOString()).toBe(new Date("2018-02-30T10:34:56+08:00").toISOString());
    expect(parseV3Time("2018-13-01T10:34:56+08:00")).toBeUndefined();
  });

  it("reads every RFC 3339 time exactly as new Date does", () => {
    const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, "0"));
    const time = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, "0")),
        two(13),
        two(32),
        two(25),
        two(61),
        two(61),
        fc.constantFrom("", ".5", ".123", ".1234567"),
        fc.oneof(
          fc.constant("Z"),
          fc.tuple(fc.constantFrom("+", "-"), two(25), two(61)).map(([s, h, m]) => `${s}${h}:${m}`),
        ),
      )
      .map(([y, mo, d, h, mi, s, f, z]) => `${y}-${mo}-${d}T${h}:${mi}:${s}${f}${z}`);
    fc.assert(
      fc.property(time, (text) => {
        const expected = new Date(text);
        expect(parseV3Time(text)?.getTime()).toBe(Number.isNaN(expected.getTime()) ? undefined : expected.getTime());
      }),
      { numRuns: 20_000 },
    );
  });
});
