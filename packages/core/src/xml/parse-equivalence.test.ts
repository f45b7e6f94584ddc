import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { referenceParseXml } from "../../test/support/xml-reference.js";
import { parseXml, parseXmlFlat } from "./parse.js";

// The parser was rewritten for speed (issue 20); the one it replaced is kept in test/support as the
// reference: every input must get the same answer, the same fields, the same error code and message.
const TOKENS = [
  "<xml>",
  "</xml>",
  "<root>",
  "</root>",
  "<a>",
  "</a>",
  "<ab>",
  "</ab >",
  "<a/>",
  "<a />",
  "<b >",
  "</b>",
  "<sign>",
  "</sign>",
  "<__proto__>",
  "<constructor/>",
  "<a x='1'>",
  "<![CDATA[",
  "]]>",
  "&amp;",
  "&#x41;",
  "&#20013;",
  "&bad;",
  "&",
  ";",
  "<!-- c -->",
  "<!DOCTYPE x>",
  "<?pi?>",
  "<?xml version='1.0'?>",
  "\ufeff",
  " ",
  "\n",
  "\t",
  "text",
  "0001",
  "中文",
  ">",
  "<",
  "</",
  "<1>",
  "\u0001",
] as const;

const xmlish = fc.array(fc.constantFrom(...TOKENS), { maxLength: 24 }).map((parts) => parts.join(""));
const wellFormed = fc
  .array(fc.tuple(fc.constantFrom("a", "b", "sign", "total_fee", "c.d-e", "_x"), fc.constantFrom("1", "", "x &amp; y", "<![CDATA[<in>]]>", "p<![CDATA[q]]>r", " s ")), {
    maxLength: 8,
  })
  .map((fields) => `<xml>${fields.map(([n, v]) => `<${n}>${v}</${n}>`).join("")}</xml>`);

function same(input: string | Uint8Array, root?: "xml" | "root"): void {
  const options = root === undefined ? {} : { root };
  const actual = parseXml(input, options);
  expect(actual).toEqual(referenceParseXml(input, options));
  const flat = parseXmlFlat(input, options);
  if (flat.ok) {
    // The lists are the record's names and values in document order.
    expect(flat.value.names).toEqual(Object.keys(flat.value.fields));
    expect(flat.value.values).toEqual(Object.values(flat.value.fields));
  }
}

describe("parseXml against the parser it replaced", () => {
  it("answers the same for XML-like token soup (text and bytes, both roots)", () => {
    fc.assert(
      fc.property(xmlish, fc.constantFrom<"xml" | "root" | undefined>(undefined, "xml", "root"), (text, root) => {
        same(text, root);
        same(Buffer.from(text, "utf8"), root);
      }),
      { numRuns: 5000 },
    );
  });

  it("answers the same for well-formed flat documents and their damaged copies", () => {
    fc.assert(
      fc.property(wellFormed, fc.nat(), fc.constantFrom("", "<", ">", "&", "/", " ", "]]>", "<x>"), (text, at, insert) => {
        same(text);
        const cut = at % (text.length + 1);
        same(text.slice(0, cut) + insert + text.slice(cut));
        same(text.slice(0, cut));
      }),
      { numRuns: 3000 },
    );
  });

  it("answers the same for arbitrary strings and bytes", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.uint8Array({ maxLength: 300 })), (input) => same(input)),
      { numRuns: 2000 },
    );
  });
});
