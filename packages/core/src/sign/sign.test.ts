import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PayCoreError } from "../errors.js";
import { loadVectors } from "../../test/support/reference.js";
import { buildStringToSign, canonicalPairs, compareByteOrder } from "./canonical.js";
import { parseXmlFlat } from "../xml/parse.js";
import { buildXml } from "../xml/build.js";
import { hmacSha256, signParams } from "./sign.js";
import { SIGN_TYPES } from "./sign-type.js";
import { verifyParsedSign, verifySign } from "./verify.js";

const vectors = loadVectors();
const KEY = "192006250b4c09247ec02edce69f6a2d";

describe("known answers from shared/reference/vectors.json", () => {
  it("covers V1-V7 and both algorithms", () => {
    const ids = vectors.signs.map((v) => v.id);
    expect(ids).toEqual(expect.arrayContaining(["V1", "V2", "V3", "V4", "V5", "V6", "V6h", "V7"]));
  });

  it.each(vectors.signs.map((v) => [v.id, v] as const))("%s: string to sign and signature", (_id, v) => {
    expect(buildStringToSign(v.params, v.key)).toBe(v.stringToSign);
    expect(signParams(v.params, { key: v.key, signType: v.signType })).toBe(v.expected);
  });

  it.each(vectors.signs.map((v) => [v.id, v] as const))("%s: verifies, and fails with one changed field", (_id, v) => {
    const message = { ...v.params, sign: v.expected };
    expect(verifySign(message, { key: v.key, signType: v.signType, inferSignType: true })).toEqual({ ok: true, value: { signType: v.signType } });
    const [firstName] = Object.keys(v.params);
    const tampered = { ...message, [firstName ?? "x"]: "tampered" };
    expect(verifySign(tampered, { key: v.key, signType: v.signType, inferSignType: true })).toMatchObject({ ok: false, error: { code: "SIGN_MISMATCH" } });
  });
});

describe("canonical form", () => {
  it("leaves out sign, undefined, null and empty strings", () => {
    const withEmpties = { b: "2", a: "1", sign: "STALE", c: "", d: null, e: undefined };
    expect(buildStringToSign(withEmpties, "K")).toBe("a=1&b=2&key=K");
    expect(signParams(withEmpties, { key: KEY, signType: "MD5" })).toBe(signParams({ a: "1", b: "2" }, { key: KEY, signType: "MD5" }));
  });

  it("keeps values that only look empty: '0', ' ' and 'null'", () => {
    expect(buildStringToSign({ a: "0", b: " ", c: "null", d: 0 }, "K")).toBe("a=0&b= &c=null&d=0&key=K");
  });

  it("turns numbers and bigints into their decimal text", () => {
    expect(buildStringToSign({ total_fee: 1, cash_fee: 100n, rate: 650000000, neg: -0 }, "K")).toBe("cash_fee=100&neg=0&rate=650000000&total_fee=1&key=K");
    expect(signParams({ total_fee: 1 }, { key: KEY, signType: "MD5" })).toBe(signParams({ total_fee: "1" }, { key: KEY, signType: "MD5" }));
  });

  it.each([
    ["an object", { detail: { goods: 1 } }, "NESTED_VALUE"],
    ["an array", { detail: [1, 2] }, "NESTED_VALUE"],
    ["a boolean", { flag: true }, "UNSUPPORTED_VALUE"],
    ["NaN", { total_fee: Number.NaN }, "UNSUPPORTED_VALUE"],
    ["Infinity", { total_fee: Number.POSITIVE_INFINITY }, "UNSUPPORTED_VALUE"],
    ["an exponent-form number", { total_fee: 1e21 }, "UNSUPPORTED_VALUE"],
  ] as const)("rejects %s with a typed error", (_what, params, code) => {
    const call = () => buildStringToSign(params as never, "K");
    expect(call).toThrow(PayCoreError);
    expect(call).toThrow(expect.objectContaining({ code }));
  });

  it("rejects duplicate names in pair arrays", () => {
    expect(() =>
      canonicalPairs([
        ["a", "1"],
        ["a", "2"],
      ]),
    ).toThrow(expect.objectContaining({ code: "DUPLICATE_KEY" }));
  });

  it("sorts integer-like keys by byte order, not by JS object order", () => {
    const params = { b: "x", "10": "ten", "2": "two", a: "y", A: "z", _: "u" };
    // A plain object would iterate "2", "10" first; byte order puts "10" before "2" and digits before letters.
    expect(buildStringToSign(params, "K")).toBe("10=ten&2=two&A=z&_=u&a=y&b=x&key=K");
  });

  it("signs Unicode values as UTF-8 and orders non-ASCII names by code point", () => {
    expect(compareByteOrder("\uffff", "\u{10000}")).toBeLessThan(0);
    expect(compareByteOrder("a", "ab")).toBeLessThan(0);
    expect(canonicalPairs({ "\u{10000}": "1", "\uffff": "2", z: "3" }).map(([k]) => k)).toEqual(["z", "\uffff", "\u{10000}"]);
  });

  it("accepts a Map and an array of pairs the same as an object", () => {
    const obj = { appid: "wx1", mch_id: "10", total_fee: 5 };
    const fromMap = signParams(new Map(Object.entries(obj)), { key: KEY, signType: "HMAC-SHA256" });
    const fromPairs = signParams(Object.entries(obj), { key: KEY, signType: "HMAC-SHA256" });
    expect(fromMap).toBe(signParams(obj, { key: KEY, signType: "HMAC-SHA256" }));
    expect(fromPairs).toBe(fromMap);
  });

  it("throws on a missing key or an unknown sign type", () => {
    expect(() => signParams({ a: "1" }, { key: "", signType: "MD5" })).toThrow(expect.objectContaining({ code: "INVALID_OPTION" }));
    expect(() => signParams({ a: "1" }, { key: KEY, signType: "SHA1" as never })).toThrow(expect.objectContaining({ code: "INVALID_OPTION" }));
  });
});

describe("verifySign", () => {
  const fields = { appid: "wxd930ea5d5a258f4f", mch_id: "10000100", total_fee: "1", coupon_fee_0: "1", sub_mch_id: "9", brand_new_field: "x" };
  const md5 = signParams(fields, { key: KEY, signType: "MD5" });
  const hmac = signParams(fields, { key: KEY, signType: "HMAC-SHA256" });

  it("covers fields it does not model (coupon_*, sub_*, unknown new ones)", () => {
    expect(verifySign({ ...fields, sign: md5 }, { key: KEY, signType: "MD5" }).ok).toBe(true);
    const { brand_new_field: _dropped, ...withoutUnknown } = fields;
    expect(verifySign({ ...withoutUnknown, sign: md5 }, { key: KEY, signType: "MD5" })).toMatchObject({ ok: false, error: { code: "SIGN_MISMATCH" } });
  });

  it("accepts an HMAC-SHA256 message without sign_type only when inference is allowed", () => {
    expect(verifySign({ ...fields, sign: hmac }, { key: KEY, signType: "HMAC-SHA256", inferSignType: true })).toEqual({ ok: true, value: { signType: "HMAC-SHA256" } });
    // Without inference a message with no sign_type is MD5 by protocol default, which this merchant does not accept.
    expect(verifySign({ ...fields, sign: hmac }, { key: KEY, signType: "HMAC-SHA256" })).toMatchObject({ ok: false, error: { code: "SIGN_TYPE_NOT_ALLOWED" } });
  });

  it("refuses an MD5 signature for an HMAC-only merchant, declared or implied", () => {
    expect(verifySign({ ...fields, sign: md5 }, { key: KEY, signType: "HMAC-SHA256", inferSignType: true })).toMatchObject({ ok: false, error: { code: "SIGN_TYPE_NOT_ALLOWED" } });
    const declared = { ...fields, sign_type: "MD5" };
    const sign = signParams(declared, { key: KEY, signType: "MD5" });
    expect(verifySign({ ...declared, sign }, { key: KEY, signType: "HMAC-SHA256" })).toMatchObject({ ok: false, error: { code: "SIGN_TYPE_NOT_ALLOWED" } });
    expect(verifySign({ ...declared, sign }, { key: KEY, signType: ["HMAC-SHA256", "MD5"] }).ok).toBe(true);
  });

  it.each([
    ["no sign", { ...fields }, "MISSING_SIGN"],
    ["an empty sign", { ...fields, sign: "" }, "MISSING_SIGN"],
    ["a non-hex sign", { ...fields, sign: "Z".repeat(32) }, "MALFORMED_SIGN"],
    ["a sign of the wrong length", { ...fields, sign: "A".repeat(40) }, "MALFORMED_SIGN"],
    ["an unknown sign_type", { ...fields, sign_type: "SHA1", sign: md5 }, "UNKNOWN_SIGN_TYPE"],
    ["a signature made with another key", { ...fields, sign: signParams(fields, { key: "another-key-another-key-another!", signType: "MD5" }) }, "SIGN_MISMATCH"],
  ] as const)("rejects %s", (_what, message, code) => {
    expect(verifySign(message, { key: KEY, signType: ["MD5", "HMAC-SHA256"], inferSignType: true })).toMatchObject({ ok: false, error: { code } });
  });

  it("accepts a lowercase hex sign (hex case carries no meaning)", () => {
    expect(verifySign({ ...fields, sign: md5.toLowerCase() }, { key: KEY, signType: "MD5" }).ok).toBe(true);
  });

  it("property: whatever is signed verifies, and any other value does not", () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/).filter((n) => n !== "sign" && n !== "sign_type");
    fc.assert(
      fc.property(
        fc.dictionary(name, fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }), { minKeys: 1, maxKeys: 20 }),
        fc.constantFrom(...SIGN_TYPES),
        (params, signType) => {
          const sign = signParams(params, { key: KEY, signType });
          expect(verifySign({ ...params, sign }, { key: KEY, signType, inferSignType: true }).ok).toBe(true);
          const [first] = Object.keys(params);
          if (first !== undefined) {
            const changed = { ...params, [first]: `${params[first]}!`, sign };
            expect(verifySign(changed, { key: KEY, signType, inferSignType: true }).ok).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("hmacSha256 (two one-shot hashes)", () => {
  it("equals Node's createHmac for any key and message: long keys, lone surrogates, messages past the scratch buffer", () => {
    const text = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 200 }), fc.string({ unit: "grapheme", maxLength: 100 }));
    const key = fc.oneof(fc.string({ minLength: 1, maxLength: 100 }), fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }));
    fc.assert(
      fc.property(key, text, fc.constantFrom(0, 1, 6000), (k, message, repeat) => {
        const long = repeat === 0 ? message : message + "中".repeat(repeat);
        expect(hmacSha256(k, long)).toEqual(createHmac("sha256", Buffer.from(k, "utf8")).update(long, "utf8").digest());
      }),
      { numRuns: 600 },
    );
  });
});

describe("verifyParsedSign", () => {
  it("answers as verifySign does on the parsed record, for genuine, altered and oddly signed messages", () => {
    const name = fc.constantFrom("appid", "mch_id", "total_fee", "attach", "nonce_str", "b", "a_1", "sign_type");
    const value = fc.constantFrom("1", "wx1", "中文", "x&y", "", "MD5", "HMAC-SHA256", "SHA1");
    fc.assert(
      fc.property(fc.dictionary(name, value), fc.constantFrom(...SIGN_TYPES), fc.constantFrom("genuine", "altered", "lowercase", "short", "none"), (fields, signType, how) => {
        const sign = signParams(fields, { key: KEY, signType });
        const signs = { genuine: sign, altered: `${sign.slice(0, -1)}${sign.endsWith("0") ? "1" : "0"}`, lowercase: sign.toLowerCase(), short: sign.slice(2), none: "" };
        const parsed = parseXmlFlat(buildXml({ ...fields, sign: signs[how] }));
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        for (const options of [
          { key: KEY, signType },
          { key: KEY, signType: SIGN_TYPES, inferSignType: true },
          { key: KEY, signType: "MD5" as const },
        ]) {
          expect(verifyParsedSign(parsed.value, options)).toEqual(verifySign(parsed.value.fields, options));
        }
      }),
      { numRuns: 500 },
    );
  });
});
