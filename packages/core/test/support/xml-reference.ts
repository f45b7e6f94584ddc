// The flat XML parser as it was before issue 20 (commit 08ebbd0), kept verbatim as the reference the
// rewritten parser is checked against (xml/parse-equivalence.test.ts): same answers, codes and messages.
import { err, ok, type Result } from "../../src/result.js";
import { DEFAULT_MAX_XML_BYTES, type ParseXmlOptions, type XmlErrorCode, type XmlFields, type XmlRoot } from "../../src/xml/parse.js";

const FORBIDDEN_NAMES = new Set(["__proto__", "constructor", "prototype"]);
const DTD_MARKERS = /<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;
/** Characters outside XML 1.0's Char production: C0 controls other than tab, LF and CR; U+FFFE/U+FFFF. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const PREDEFINED: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

// Element names: [A-Za-z_][A-Za-z0-9_.-]*, tested on char codes (a regex per character was a tenth of a notify's parse).
function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d;
}

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  skipSpace(): void {
    const t = this.text;
    let p = this.pos;
    while (p < t.length) {
      const c = t.charCodeAt(p);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      p++;
    }
    this.pos = p;
  }

  startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }

  readName(): string | undefined {
    const t = this.text;
    const start = this.pos;
    if (start >= t.length || !isNameStart(t.charCodeAt(start))) return undefined;
    let p = start + 1;
    while (p < t.length && isNameChar(t.charCodeAt(p))) p++;
    this.pos = p;
    return t.slice(start, p);
  }
}

type Step<T> = { ok: true; value: T } | { ok: false; code: XmlErrorCode; message: string };

function decodeReference(ref: string): string | undefined {
  const named = PREDEFINED[ref];
  if (named !== undefined) return named;
  let code: number;
  if (/^#x[0-9A-Fa-f]{1,6}$/.test(ref)) code = Number.parseInt(ref.slice(2), 16);
  else if (/^#[0-9]{1,7}$/.test(ref)) code = Number.parseInt(ref.slice(1), 10);
  else return undefined;
  if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
  const ch = String.fromCodePoint(code);
  return INVALID_XML_CHARS.test(ch) ? undefined : ch;
}

/** Reads the content of a child element up to its end tag: text, references and CDATA only. */
function readContent(c: Cursor, name: string): Step<string> {
  const t = c.text;
  let out = "";
  for (;;) {
    const lt = t.indexOf("<", c.pos);
    if (lt < 0) return { ok: false, code: "MALFORMED", message: `Element <${name}> is never closed.` };
    const chunk = t.slice(c.pos, lt);
    if (chunk.includes("&")) {
      const decoded = decodeText(chunk);
      if (decoded === undefined) return { ok: false, code: "MALFORMED", message: `Element <${name}> has an unknown or malformed entity reference.` };
      out += decoded;
    } else {
      if (chunk.includes(">") && chunk.includes("]]>")) return { ok: false, code: "MALFORMED", message: `Element <${name}> has "]]>" outside CDATA.` };
      out += chunk;
    }
    c.pos = lt;
    if (c.startsWith("<![CDATA[")) {
      const end = t.indexOf("]]>", lt + 9);
      if (end < 0) return { ok: false, code: "MALFORMED", message: `A CDATA section in <${name}> is never closed.` };
      out += t.slice(lt + 9, end);
      c.pos = end + 3;
      continue;
    }
    if (c.startsWith("</")) {
      c.pos += 2;
      const closing = c.readName();
      c.skipSpace();
      if (closing !== name || !c.startsWith(">")) {
        return { ok: false, code: "MALFORMED", message: `Element <${name}> is closed by </${closing ?? ""}>.` };
      }
      c.pos += 1;
      return { ok: true, value: out };
    }
    if (c.startsWith("<!") || c.startsWith("<?")) {
      return { ok: false, code: "MALFORMED", message: `Element <${name}> holds a comment, declaration or processing instruction.` };
    }
    return { ok: false, code: "NESTED_ELEMENT", message: `Element <${name}> contains another element; v2 documents are flat.` };
  }
}

function decodeText(chunk: string): string | undefined {
  let out = "";
  let p = 0;
  for (;;) {
    const amp = chunk.indexOf("&", p);
    if (amp < 0) return out + chunk.slice(p);
    const semi = chunk.indexOf(";", amp);
    if (semi < 0 || semi - amp > 10) return undefined;
    const ch = decodeReference(chunk.slice(amp + 1, semi));
    if (ch === undefined) return undefined;
    out += chunk.slice(p, amp) + ch;
    p = semi + 1;
  }
}

function parseDocument(text: string, root: XmlRoot): Step<XmlFields> {
  const c = new Cursor(text);
  if (text.charCodeAt(0) === 0xfeff) c.pos = 1;
  c.skipSpace();
  if (c.startsWith("<?xml")) {
    const end = text.indexOf("?>", c.pos);
    if (end < 0) return { ok: false, code: "MALFORMED", message: "The XML declaration is never closed." };
    c.pos = end + 2;
    c.skipSpace();
  }
  if (!c.startsWith("<")) return { ok: false, code: "MALFORMED", message: "The body is not an XML document." };
  c.pos += 1;
  const rootName = c.readName();
  c.skipSpace();
  if (rootName === undefined || !c.startsWith(">")) {
    return { ok: false, code: "MALFORMED", message: `Expected <${root}> as the document element.` };
  }
  if (rootName !== root) return { ok: false, code: "UNEXPECTED_ROOT", message: `The document element is <${rootName}>, expected <${root}>.` };
  c.pos += 1;

  const fields: XmlFields = Object.create(null) as XmlFields;
  for (;;) {
    c.skipSpace();
    if (c.pos >= text.length) return { ok: false, code: "MALFORMED", message: `<${root}> is never closed.` };
    if (c.startsWith("</")) {
      c.pos += 2;
      const closing = c.readName();
      c.skipSpace();
      if (closing !== root || !c.startsWith(">")) return { ok: false, code: "MALFORMED", message: `<${root}> is closed by </${closing ?? ""}>.` };
      c.pos += 1;
      c.skipSpace();
      if (c.pos !== text.length) return { ok: false, code: "MALFORMED", message: `Content follows </${root}>.` };
      return { ok: true, value: fields };
    }
    if (c.startsWith("<![CDATA[") || c.startsWith("<!") || c.startsWith("<?")) {
      return { ok: false, code: "MALFORMED", message: `<${root}> may only contain elements.` };
    }
    if (!c.startsWith("<")) return { ok: false, code: "MALFORMED", message: `Text outside any field inside <${root}>.` };
    c.pos += 1;
    const name = c.readName();
    if (name === undefined) return { ok: false, code: "MALFORMED", message: "A field has no valid element name." };
    if (FORBIDDEN_NAMES.has(name)) return { ok: false, code: "FORBIDDEN_NAME", message: `Element name <${name}> is not allowed.` };
    if (name in fields) return { ok: false, code: "DUPLICATE_TAG", message: `Field <${name}> appears more than once.` };
    c.skipSpace();
    if (c.startsWith("/>")) {
      c.pos += 2;
      fields[name] = "";
      continue;
    }
    if (!c.startsWith(">")) return { ok: false, code: "MALFORMED", message: `Element <${name}> has attributes or a malformed tag.` };
    c.pos += 1;
    const content = readContent(c, name);
    if (!content.ok) return content;
    fields[name] = content.value;
  }
}

/**
 * Parses a flat v2 XML document (`<xml>` or the refund `<root>`) from untrusted bytes or text.
 * Rejects DTDs and entities, nested elements, duplicate tags, prototype-polluting names,
 * invalid UTF-8 and oversize input; keeps every value as its exact string.
 */
export function referenceParseXml(input: string | Uint8Array, options: ParseXmlOptions = {}): Result<XmlFields, XmlErrorCode> {
  const root = options.root ?? "xml";
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_XML_BYTES;
  let text: string;
  if (typeof input === "string") {
    if (input.length > maxBytes || Buffer.byteLength(input, "utf8") > maxBytes) {
      return err("TOO_LARGE", `The document is larger than ${maxBytes} bytes.`);
    }
    if (!input.isWellFormed()) return err("INVALID_UTF8", "The document contains unpaired surrogates.");
    text = input;
  } else {
    if (input.byteLength > maxBytes) return err("TOO_LARGE", `The document is larger than ${maxBytes} bytes.`);
    try {
      text = utf8.decode(input);
    } catch {
      return err("INVALID_UTF8", "The document is not valid UTF-8.");
    }
  }
  if (text.trim() === "") return err("EMPTY", "The document is empty.");
  if (DTD_MARKERS.test(text)) return err("DTD_FORBIDDEN", "DOCTYPE and ENTITY declarations are not accepted.");
  if (INVALID_XML_CHARS.test(text)) return err("MALFORMED", "The document contains control characters XML does not allow.");
  const parsed = parseDocument(text, root);
  return parsed.ok ? ok(parsed.value) : err(parsed.code, parsed.message);
}
