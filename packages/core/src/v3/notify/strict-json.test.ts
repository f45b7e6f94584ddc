import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseStrictJson } from "./strict-json.js";

describe("parseStrictJson", () => {
  it.each([
    ['{"a":1}', { a: 1 }],
    ['{"a":{"a":1},"b":[{"a":1},{"a":2}]}', { a: { a: 1 }, b: [{ a: 1 }, { a: 2 }] }],
    ['{"s":"a\\"b,{\\"a\\":1}","t":"\\\\"}', { s: 'a"b,{"a":1}', t: "\\" }],
    ['{"k":"__proto__"}', { k: "__proto__" }],
    ["[1,2,[3]]", [1, 2, [3]]],
    ['"text"', "text"],
    ["{}", {}],
  ] as const)("accepts %s", (text, value) => {
    expect(parseStrictJson(text)).toEqual({ ok: true, value });
  });

  it.each([
    ['{"a":1,"a":2}', "DUPLICATE_KEY"],
    ['{"a":1,"\\u0061":2}', "DUPLICATE_KEY"],
    ['{"x":{"b":1,"c":{},"b":2}}', "DUPLICATE_KEY"],
    ['[{"a":1,"a":1}]', "DUPLICATE_KEY"],
    ['{"__proto__":{"polluted":true}}', "FORBIDDEN_KEY"],
    ['{"x":{"constructor":{"prototype":1}}}', "FORBIDDEN_KEY"],
    ['{"prototype":1}', "FORBIDDEN_KEY"],
    ['{"\\u005f_proto__":1}', "FORBIDDEN_KEY"],
    ["not json", "NOT_JSON"],
    ['{"a":1', "NOT_JSON"],
    ['{"a":"unterminated', "NOT_JSON"],
    ['{"a\\x":1}', "NOT_JSON"],
    ["", "NOT_JSON"],
    ["\uFEFF{}", "NOT_JSON"],
    ["[".repeat(17) + "]".repeat(17), "TOO_DEEP"],
    ['{"a":'.repeat(100000) + "1" + "}".repeat(100000), "TOO_DEEP"],
  ] as const)("refuses %s as %s", (text, code) => {
    const result = parseStrictJson(text);
    expect(result.ok ? "accepted" : result.error.code).toBe(code);
  });

  it("names the repeated key, decoded, in the message", () => {
    expect(parseStrictJson('{"x":[{"b":1}],"y":{"c":1,"\\u0063":2}}')).toEqual({ ok: false, error: { code: "DUPLICATE_KEY", message: 'The body repeats the key "c".' } });
    expect(parseStrictJson('{"k":"__proto__","o":{"__proto__":null}}')).toEqual({ ok: false, error: { code: "FORBIDDEN_KEY", message: 'The body has a "__proto__" key.' } });
  });

  it("finds a repeated key wherever it is added to any JSON object", () => {
    const key = fc.string({ maxLength: 3 }).filter((k) => !["__proto__", "constructor", "prototype"].includes(k));
    const json = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof({ depthSize: "small" }, fc.integer(), fc.string(), fc.array(tie("value"), { maxLength: 3 }), fc.dictionary(key, tie("value"), { maxKeys: 3 })),
    }));
    fc.assert(
      fc.property(json.value, fc.nat(), (value, pick) => {
        const text = JSON.stringify(value);
        // Every object in the text that has a first key: repeat that member at its end.
        const objects = [...text.matchAll(/\{("(?:[^"\\]|\\.)*"):/g)];
        fc.pre(objects.length > 0);
        const match = objects[pick % objects.length]!;
        const member = `${match[1]}:0`;
        const at = match.index + 1;
        const repeated = `${text.slice(0, at)}${member},${text.slice(at)}`;
        expect(parseStrictJson(repeated, { maxDepth: 64 })).toMatchObject({ ok: false, error: { code: "DUPLICATE_KEY" } });
      }),
    );
  });

  it("refuses bytes that are not UTF-8", () => {
    const result = parseStrictJson(Uint8Array.of(0x7b, 0xff, 0x7d));
    expect(result.ok ? "accepted" : result.error.code).toBe("NOT_JSON");
  });

  it("honours maxDepth", () => {
    expect(parseStrictJson("[[1]]", { maxDepth: 2 }).ok).toBe(true);
    expect(parseStrictJson("[[[1]]]", { maxDepth: 2 }).ok).toBe(false);
  });

  it("agrees with JSON.parse on every JSON value without repeated or forbidden keys", () => {
    const key = fc.string().filter((k) => !["__proto__", "constructor", "prototype"].includes(k));
    const json = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        fc.string(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie("value"), { maxLength: 4 }),
        fc.dictionary(key, tie("value"), { maxKeys: 4 }),
      ),
    }));
    fc.assert(
      fc.property(json.value, (value) => {
        const text = JSON.stringify(value);
        expect(parseStrictJson(text, { maxDepth: 64 })).toEqual({ ok: true, value: JSON.parse(text) as unknown });
      }),
    );
  });
});
