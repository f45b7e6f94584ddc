import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PayCoreError } from "../../errors.js";
import { loadVectorsV3 } from "../../../test/support/reference.js";
import { buildV3Authorization, MAX_V3_AUTHORIZATION_LENGTH, parseV3Authorization, V3_AUTHORIZATION_ERROR_CODES, type V3AuthorizationErrorCode } from "./authorization.js";

const v = loadVectorsV3();
const r = v.requestSignature;
const SIG = r.signature;
const expected = { mchId: "1900007291", nonce: r.nonce, timestamp: Number(r.timestamp), serialNo: v.merchantSampleKey.serialNo, signature: SIG };
const S = "WECHATPAY2-SHA256-RSA2048";
const pairs = (...p: string[]) => `${S} ${p.join(",")}`;
const MCH = 'mchid="1900007291"';
const NONCE = `nonce_str="${r.nonce}"`;
const TS = `timestamp="${r.timestamp}"`;
const SERIAL = `serial_no="${v.merchantSampleKey.serialNo}"`;
const SIGNATURE = `signature="${SIG}"`;

describe("buildV3Authorization", () => {
  it("produces the documented header, byte for byte", () => {
    expect(buildV3Authorization(expected)).toBe(r.authorization);
  });

  it.each([
    ["a quote in the nonce", { nonce: 'a"b' }],
    ["a non-hex serial", { serialNo: "XYZ" }],
    ["a signature that is not base64", { signature: "WECHATPAY/SIGNTEST/abc" }],
    ["a fractional timestamp", { timestamp: 1.5 }],
  ])("throws INVALID_OPTION for %s", (_name, change) => {
    expect(() => buildV3Authorization({ ...expected, ...change })).toThrow(PayCoreError);
  });
});

describe("parseV3Authorization", () => {
  it("parses the documented header", () => {
    expect(parseV3Authorization(r.authorization)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ["Go / Java order", pairs(MCH, NONCE, TS, SERIAL, SIGNATURE)],
    ["PHP / axios order", pairs(MCH, SERIAL, TS, NONCE, SIGNATURE)],
    ["Postman order", pairs(MCH, SERIAL, NONCE, TS, SIGNATURE)],
    ["spaces after the commas", `${S} ${[MCH, NONCE, TS, SERIAL, SIGNATURE].join(", ")}`],
  ])("accepts the pairs in any order: %s", (_name, header) => {
    expect(parseV3Authorization(header)).toEqual({ ok: true, value: expected });
  });

  const refusals: [string, string | undefined, V3AuthorizationErrorCode][] = [
    ["no header", undefined, "AUTHORIZATION_MISSING"],
    ["an empty header", "", "AUTHORIZATION_MISSING"],
    ["an oversize header", pairs(MCH, NONCE, TS, SERIAL, `signature="${"A".repeat(MAX_V3_AUTHORIZATION_LENGTH)}"`), "AUTHORIZATION_OVERSIZE"],
    ["the v2-era scheme", `WECHATPAY2-SHA256-RSA ${pairs(MCH).slice(S.length + 1)}`, "AUTHORIZATION_WRONG_SCHEME"],
    ["a lower-case scheme", r.authorization.replace(S, S.toLowerCase()), "AUTHORIZATION_WRONG_SCHEME"],
    ["Bearer", "Bearer abc", "AUTHORIZATION_WRONG_SCHEME"],
    ["the scheme alone", S, "AUTHORIZATION_MALFORMED"],
    ["the scheme and a space", `${S} `, "AUTHORIZATION_MALFORMED"],
    ["two spaces after the scheme", `${S}  ${[MCH, NONCE, TS, SERIAL, SIGNATURE].join(",")}`, "AUTHORIZATION_MALFORMED"],
    ["an unquoted value", pairs("mchid=1900007291", NONCE, TS, SERIAL, SIGNATURE), "AUTHORIZATION_MALFORMED"],
    ["single quotes", pairs("mchid='1900007291'", NONCE, TS, SERIAL, SIGNATURE), "AUTHORIZATION_MALFORMED"],
    ["an unterminated quote", pairs(MCH, NONCE, TS, SERIAL, `signature="${SIG}`), "AUTHORIZATION_MALFORMED"],
    ["an escaped quote inside a value", pairs('mchid="19\\"00"', NONCE, TS, SERIAL, SIGNATURE), "AUTHORIZATION_MALFORMED"],
    ["a line feed inside a value", pairs('mchid="1900\n7291"', NONCE, TS, SERIAL, SIGNATURE), "AUTHORIZATION_MALFORMED"],
    ["a semicolon for a comma", `${S} ${[MCH, NONCE, TS, SERIAL, SIGNATURE].join(";")}`, "AUTHORIZATION_MALFORMED"],
    ["a trailing comma", `${pairs(MCH, NONCE, TS, SERIAL, SIGNATURE)},`, "AUTHORIZATION_MALFORMED"],
    ["an unknown pair", pairs(MCH, NONCE, TS, SERIAL, SIGNATURE, 'sign_type="RSA"'), "AUTHORIZATION_UNKNOWN_PAIR"],
    ["a mis-cased pair name", pairs('MCHID="1900007291"', NONCE, TS, SERIAL, SIGNATURE), "AUTHORIZATION_UNKNOWN_PAIR"],
    ["__proto__ as a pair", pairs(MCH, NONCE, TS, SERIAL, SIGNATURE, '__proto__="x"'), "AUTHORIZATION_UNKNOWN_PAIR"],
    ["a duplicate pair", pairs(MCH, NONCE, TS, SERIAL, SIGNATURE, 'mchid="1"'), "AUTHORIZATION_DUPLICATE_PAIR"],
    ["no mchid", pairs(NONCE, TS, SERIAL, SIGNATURE), "AUTHORIZATION_MISSING_PAIR"],
    ["no nonce_str", pairs(MCH, TS, SERIAL, SIGNATURE), "AUTHORIZATION_MISSING_PAIR"],
    ["no timestamp", pairs(MCH, NONCE, SERIAL, SIGNATURE), "AUTHORIZATION_MISSING_PAIR"],
    ["no serial_no", pairs(MCH, NONCE, TS, SIGNATURE), "AUTHORIZATION_MISSING_PAIR"],
    ["no signature", pairs(MCH, NONCE, TS, SERIAL), "AUTHORIZATION_MISSING_PAIR"],
    ["an empty mchid", pairs('mchid=""', NONCE, TS, SERIAL, SIGNATURE), "AUTHORIZATION_BAD_VALUE"],
    ["a space inside the nonce", pairs(MCH, 'nonce_str="a b"', TS, SERIAL, SIGNATURE), "AUTHORIZATION_BAD_VALUE"],
    ["a public-key id as serial_no", pairs(MCH, NONCE, TS, 'serial_no="PUB_KEY_ID_0114232134912410000000000000"', SIGNATURE), "AUTHORIZATION_BAD_VALUE"],
    ["a non-numeric timestamp", pairs(MCH, NONCE, 'timestamp="abc"', SERIAL, SIGNATURE), "AUTHORIZATION_BAD_TIMESTAMP"],
    ["a negative timestamp", pairs(MCH, NONCE, 'timestamp="-1554208460"', SERIAL, SIGNATURE), "AUTHORIZATION_BAD_TIMESTAMP"],
    ["a fractional timestamp", pairs(MCH, NONCE, 'timestamp="1554208460.5"', SERIAL, SIGNATURE), "AUTHORIZATION_BAD_TIMESTAMP"],
    ["a leading-zero timestamp", pairs(MCH, NONCE, 'timestamp="01554208460"', SERIAL, SIGNATURE), "AUTHORIZATION_BAD_TIMESTAMP"],
    ["a millisecond timestamp beyond 12 digits", pairs(MCH, NONCE, 'timestamp="1554208460000"', SERIAL, SIGNATURE), "AUTHORIZATION_BAD_TIMESTAMP"],
    ["an empty signature", pairs(MCH, NONCE, TS, SERIAL, 'signature=""'), "AUTHORIZATION_BAD_SIGNATURE"],
    ["a probe signature", pairs(MCH, NONCE, TS, SERIAL, `signature="WECHATPAY/SIGNTEST/${SIG}"`), "AUTHORIZATION_BAD_SIGNATURE"],
    ["unpadded base64", pairs(MCH, NONCE, TS, SERIAL, `signature="${SIG.replace(/=+$/, "")}"`), "AUTHORIZATION_BAD_SIGNATURE"],
    ["url-safe base64", pairs(MCH, NONCE, TS, SERIAL, `signature="${SIG.replace(/\+/g, "-").replace(/\//g, "_")}"`), "AUTHORIZATION_BAD_SIGNATURE"],
    ["a signature over 512 bytes", pairs(MCH, NONCE, TS, SERIAL, `signature="${"A".repeat(688)}"`), "AUTHORIZATION_BAD_SIGNATURE"],
  ];

  it.each(refusals)("refuses %s", (_name, header, code) => {
    const parsed = parseV3Authorization(header);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.code).toBe(code);
      expect(parsed.error.message).not.toBe("");
    }
  });

  it("covers every refusal code in the table", () => {
    expect(new Set(refusals.map(([, , code]) => code))).toEqual(new Set(V3_AUTHORIZATION_ERROR_CODES));
  });

  it("never throws on arbitrary input, and round-trips what it builds (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (header) => {
        const parsed = parseV3Authorization(`${S} ${header}`);
        expect(typeof parsed.ok).toBe("boolean");
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9]{1,32}$/),
        fc.stringMatching(/^[0-9A-Za-z]{1,32}$/),
        fc.integer({ min: 0, max: 99_999_999_999 }),
        fc.stringMatching(/^[0-9A-F]{1,40}$/),
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        (mchId, nonce, timestamp, serialNo, bytes) => {
          const auth = { mchId, nonce, timestamp, serialNo, signature: Buffer.from(bytes).toString("base64") };
          expect(parseV3Authorization(buildV3Authorization(auth))).toEqual({ ok: true, value: auth });
        },
      ),
      { numRuns: 200 },
    );
  });
});
