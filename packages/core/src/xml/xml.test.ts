import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PayCoreError } from "../errors.js";
import { buildXml } from "./build.js";
import { INVALID_XML_CHARS, parseXml } from "./parse.js";

const SAMPLE_RESPONSE = `<xml>
  <return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg>
  <appid><![CDATA[wx2421b1c4370ec43b]]></appid><mch_id><![CDATA[10000100]]></mch_id>
  <nonce_str><![CDATA[IITRi8Iabbblz1Jc]]></nonce_str><openid><![CDATA[oUpF8uMuAJO_M2pxb1Q9zNjWeS6o]]></openid>
  <sign><![CDATA[7921E432F65EB8ED0CE9755F0E86D72F]]></sign><result_code><![CDATA[SUCCESS]]></result_code>
  <prepay_id><![CDATA[wx201411101639507cbf6ffd8b0779950874]]></prepay_id><trade_type><![CDATA[JSAPI]]></trade_type>
</xml>`;

describe("parseXml", () => {
  it("reads the reference unifiedorder response (CDATA)", () => {
    const parsed = parseXml(SAMPLE_RESPONSE);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.prepay_id).toBe("wx201411101639507cbf6ffd8b0779950874");
    expect(Object.keys(parsed.value)).toHaveLength(10);
    expect(Object.getPrototypeOf(parsed.value)).toBeNull();
  });

  it("reads plain text, entity references, mixed CDATA and empty elements", () => {
    const parsed = parseXml(
      '<?xml version="1.0" encoding="UTF-8"?>\n<xml><total_fee>1</total_fee><a>x &amp; y &lt;z&gt; &#20013;&#x6587;</a><b>pre<![CDATA[<in>]]>post</b><c/><d></d><e> spaced </e></xml>',
    );
    expect(parsed).toEqual({
      ok: true,
      value: Object.assign(Object.create(null) as object, { total_fee: "1", a: "x & y <z> 中文", b: "pre<in>post", c: "", d: "", e: " spaced " }),
    });
  });

  it("keeps values as exact strings: leading zeros, long digits, whitespace", () => {
    const parsed = parseXml("<xml><out_trade_no>000123</out_trade_no><transaction_id>4200000483202001042069747825</transaction_id><rate>0650000000</rate></xml>");
    expect(parsed.ok && parsed.value.out_trade_no).toBe("000123");
    expect(parsed.ok && parsed.value.transaction_id).toBe("4200000483202001042069747825");
    expect(parsed.ok && parsed.value.rate).toBe("0650000000");
  });

  it("accepts bytes, and the refund <root> shape when asked for it", () => {
    expect(parseXml(Buffer.from("<root><a>中</a></root>"), { root: "root" })).toMatchObject({ ok: true, value: { a: "中" } });
    expect(parseXml("<root><a>1</a></root>")).toMatchObject({ ok: false, error: { code: "UNEXPECTED_ROOT" } });
  });

  it.each([
    ["an empty body", "", "EMPTY"],
    ["whitespace only", "  \n ", "EMPTY"],
    ["a DOCTYPE with an external entity", '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><a>&xxe;</a></xml>', "DTD_FORBIDDEN"],
    ["an http external entity", '<!DOCTYPE xml [<!ENTITY e SYSTEM "http://127.0.0.1/">]><xml><a>&e;</a></xml>', "DTD_FORBIDDEN"],
    ["billion laughs", '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><xml><a>&lol2;</a></xml>', "DTD_FORBIDDEN"],
    ["a DOCTYPE alone", "<!DOCTYPE xml><xml><a>1</a></xml>", "DTD_FORBIDDEN"],
    ["a lowercase doctype", "<!doctype xml><xml><a>1</a></xml>", "DTD_FORBIDDEN"],
    ["an ENTITY without DOCTYPE", '<xml><!ENTITY a "b"><a>1</a></xml>', "DTD_FORBIDDEN"],
    ["an undeclared entity reference", "<xml><a>&xxe;</a></xml>", "MALFORMED"],
    ["a nested element", "<xml><a><b>1</b></a></xml>", "NESTED_ELEMENT"],
    ["a duplicate sign tag", "<xml><sign>A</sign><sign>B</sign></xml>", "DUPLICATE_TAG"],
    ["a duplicate total_fee tag", "<xml><total_fee>1</total_fee><total_fee>100</total_fee></xml>", "DUPLICATE_TAG"],
    ["a __proto__ tag", "<xml><__proto__>x</__proto__></xml>", "FORBIDDEN_NAME"],
    ["a constructor tag", "<xml><constructor>x</constructor></xml>", "FORBIDDEN_NAME"],
    ["a prototype tag", "<xml><prototype>x</prototype></xml>", "FORBIDDEN_NAME"],
    ["another root", "<root><a>1</a></root>", "UNEXPECTED_ROOT"],
    ["JSON", '{"return_code":"SUCCESS"}', "MALFORMED"],
    ["HTML from nginx", "<html><head><title>400 No required SSL certificate was sent</title></head></html>", "UNEXPECTED_ROOT"],
    ["an unclosed element", "<xml><a>1</xml>", "MALFORMED"],
    ["an unclosed root", "<xml><a>1</a>", "MALFORMED"],
    ["mismatched tags", "<xml><a>1</b></xml>", "MALFORMED"],
    ["attributes", '<xml><a x="1">1</a></xml>', "MALFORMED"],
    ["trailing content", "<xml><a>1</a></xml><xml/>", "MALFORMED"],
    ["a comment", "<xml><!-- hi --><a>1</a></xml>", "MALFORMED"],
    ["a processing instruction inside", "<xml><a><?php ?></a></xml>", "MALFORMED"],
    ["text between fields", "<xml>junk<a>1</a></xml>", "MALFORMED"],
    ["a control character", "<xml><a>\u0001</a></xml>", "MALFORMED"],
    ["an unclosed CDATA", "<xml><a><![CDATA[1</a></xml>", "MALFORMED"],
    ["a lone surrogate", "<xml><a>\ud800</a></xml>", "INVALID_UTF8"],
  ] as const)("rejects %s", (_what, body, code) => {
    expect(parseXml(body)).toMatchObject({ ok: false, error: { code } });
  });

  it("rejects invalid UTF-8 bytes", () => {
    const bytes = Buffer.concat([Buffer.from("<xml><a>"), Buffer.from([0xc3, 0x28]), Buffer.from("</a></xml>")]);
    expect(parseXml(bytes)).toMatchObject({ ok: false, error: { code: "INVALID_UTF8" } });
  });

  it("rejects oversize input before reading it", () => {
    const big = `<xml><a>${"x".repeat(70_000)}</a></xml>`;
    expect(parseXml(big)).toMatchObject({ ok: false, error: { code: "TOO_LARGE" } });
    expect(parseXml(Buffer.from(big))).toMatchObject({ ok: false, error: { code: "TOO_LARGE" } });
    expect(parseXml(big, { maxBytes: 100_000 }).ok).toBe(true);
    // Multi-byte characters count as bytes, not UTF-16 units.
    expect(parseXml(`<xml><a>${"中".repeat(30)}</a></xml>`, { maxBytes: 80 })).toMatchObject({ ok: false, error: { code: "TOO_LARGE" } });
  });

  it("never throws on arbitrary input", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.uint8Array({ maxLength: 300 })), (input) => {
        const parsed = parseXml(input);
        expect(typeof parsed.ok).toBe("boolean");
      }),
      { numRuns: 2000 },
    );
  });
});

describe("buildXml", () => {
  it("writes integers plain, other text in CDATA, and leaves out empty values", () => {
    expect(buildXml({ total_fee: 1, body: "JSAPI支付测试", out_trade_no: "000123", attach: "", x: null, y: undefined })).toBe(
      "<xml><total_fee>1</total_fee><body><![CDATA[JSAPI支付测试]]></body><out_trade_no>000123</out_trade_no></xml>",
    );
  });

  it("splits ]]> across CDATA sections so it survives", () => {
    const xml = buildXml({ a: "x]]>y" });
    expect(parseXml(xml)).toMatchObject({ ok: true, value: { a: "x]]>y" } });
  });

  it("throws on names and values XML cannot carry", () => {
    expect(() => buildXml({ "bad name": "1" })).toThrow(PayCoreError);
    expect(() => buildXml({ __proto__x: "1", constructor: "1" })).toThrow(PayCoreError);
    expect(() => buildXml({ a: "\u0000" })).toThrow(PayCoreError);
    expect(() => buildXml({ a: Number.NaN })).toThrow(PayCoreError);
  });

  it("property: build -> parse returns every non-empty field exactly", () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/).filter((n) => !["__proto__", "constructor", "prototype"].includes(n));
    const text = fc.string({ unit: "grapheme", maxLength: 40 }).filter((s) => !INVALID_XML_CHARS.test(s) && !/<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i.test(s));
    fc.assert(
      fc.property(fc.dictionary(name, text, { maxKeys: 25 }), (fields) => {
        const parsed = parseXml(buildXml(fields), { maxBytes: 1 << 20 });
        const expected = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== ""));
        expect(parsed.ok).toBe(true);
        if (parsed.ok) expect({ ...parsed.value }).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });
});
