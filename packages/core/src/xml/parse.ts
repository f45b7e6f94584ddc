import { err, ok, type Result } from "../result.js";

export const XML_ERROR_CODES = [
  "EMPTY",
  "TOO_LARGE",
  "INVALID_UTF8",
  "DTD_FORBIDDEN",
  "UNEXPECTED_ROOT",
  "NESTED_ELEMENT",
  "DUPLICATE_TAG",
  "FORBIDDEN_NAME",
  "MALFORMED",
] as const;
export type XmlErrorCode = (typeof XML_ERROR_CODES)[number];

/** The two document shapes v2 uses: `<xml>` for messages, `<root>` inside a refund notify's req_info. */
export type XmlRoot = "xml" | "root";

export interface ParseXmlOptions {
  /** Expected root element; default `xml`. */
  readonly root?: XmlRoot;
  /** Largest accepted document in bytes; default 64 KiB (a real notify is under 4 KiB). */
  readonly maxBytes?: number;
}

/** A flat v2 document: element name to its exact text. The object has no prototype. */
export type XmlFields = Record<string, string>;

export const DEFAULT_MAX_XML_BYTES = 64 * 1024;

const FORBIDDEN_NAMES = new Set(["__proto__", "constructor", "prototype"]);
const BLANK = /^\s*$/;
const DTD_MARKERS = /<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;
/** Characters outside XML 1.0's Char production: C0 controls other than tab, LF and CR; U+FFFE/U+FFFF. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const PREDEFINED: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

// Element names: [A-Za-z_][A-Za-z0-9_.-]*, tested on char codes (a regex per character was a tenth of a notify's parse).
function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d;
}

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const BANG = 0x21;
const QUESTION = 0x3f;

function skipSpace(t: string, p: number): number {
  while (p < t.length) {
    const c = t.charCodeAt(p);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    p++;
  }
  return p;
}

/** The end of the element name starting at `p`, or `p` when none starts there. */
function nameEnd(t: string, p: number): number {
  if (p >= t.length || !isNameStart(t.charCodeAt(p))) return p;
  p++;
  while (p < t.length && isNameChar(t.charCodeAt(p))) p++;
  return p;
}

// The parser runs synchronously and returns plain values; why it stopped, and where a field's content
// ended, are kept here instead of in a result object per field (30 allocations a notify).
let failCode: XmlErrorCode = "MALFORMED";
let failMessage = "";
let contentEnd = 0;
/** The names of the last document parsed, in order: one array, replaced by each successful parse. */
let previousNames: readonly string[] = [];

function fail(code: XmlErrorCode, message: string): undefined {
  failCode = code;
  failMessage = message;
  return undefined;
}

function stop(code: XmlErrorCode, message: string): false {
  fail(code, message);
  return false;
}

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

/**
 * Reads the content of element `name` from `p` up to its end tag: text, references and CDATA only.
 * Returns the text and sets `contentEnd` past the end tag, or fails.
 */
function readContent(t: string, p: number, name: string): string | undefined {
  let out = "";
  for (;;) {
    const lt = t.indexOf("<", p);
    if (lt < 0) return fail("MALFORMED", `Element <${name}> is never closed.`);
    if (lt > p) {
      const chunk = t.slice(p, lt);
      if (chunk.includes("&")) {
        const decoded = decodeText(chunk);
        if (decoded === undefined) return fail("MALFORMED", `Element <${name}> has an unknown or malformed entity reference.`);
        out += decoded;
      } else {
        if (chunk.includes(">") && chunk.includes("]]>")) return fail("MALFORMED", `Element <${name}> has "]]>" outside CDATA.`);
        out += chunk;
      }
    }
    const next = t.charCodeAt(lt + 1);
    if (next === BANG && t.startsWith("<![CDATA[", lt)) {
      const end = t.indexOf("]]>", lt + 9);
      if (end < 0) return fail("MALFORMED", `A CDATA section in <${name}> is never closed.`);
      out += t.slice(lt + 9, end);
      p = end + 3;
      continue;
    }
    if (next === SLASH) {
      const at = lt + 2;
      // The usual case: the same name, not the start of a longer one, then `>` (after optional space).
      if (t.startsWith(name, at) && !isNameChar(t.charCodeAt(at + name.length))) {
        const gt = skipSpace(t, at + name.length);
        if (t.charCodeAt(gt) === GT) {
          contentEnd = gt + 1;
          return out;
        }
      }
      const closingEnd = nameEnd(t, at);
      return fail("MALFORMED", `Element <${name}> is closed by </${t.slice(at, closingEnd)}>.`);
    }
    if (next === BANG || next === QUESTION) {
      return fail("MALFORMED", `Element <${name}> holds a comment, declaration or processing instruction.`);
    }
    return fail("NESTED_ELEMENT", `Element <${name}> contains another element; v2 documents are flat.`);
  }
}

function isForbiddenName(name: string): boolean {
  return (name.length === 9 || name.length === 11) && FORBIDDEN_NAMES.has(name);
}

/** Parses the document into `fields`, pushing each name and value in document order; false when it fails. */
function parseDocument(t: string, root: XmlRoot, fields: XmlFields, names: string[], values: string[]): boolean {
  let p = skipSpace(t, t.charCodeAt(0) === 0xfeff ? 1 : 0);
  if (t.startsWith("<?xml", p)) {
    const end = t.indexOf("?>", p);
    if (end < 0) return stop("MALFORMED", "The XML declaration is never closed.");
    p = skipSpace(t, end + 2);
  }
  if (t.charCodeAt(p) !== LT) return stop("MALFORMED", "The body is not an XML document.");
  const rootStart = p + 1;
  const rootEnd = nameEnd(t, rootStart);
  p = skipSpace(t, rootEnd);
  if (rootEnd === rootStart || t.charCodeAt(p) !== GT) return stop("MALFORMED", `Expected <${root}> as the document element.`);
  const rootName = t.slice(rootStart, rootEnd);
  if (rootName !== root) return stop("UNEXPECTED_ROOT", `The document element is <${rootName}>, expected <${root}>.`);
  p += 1;

  for (;;) {
    p = skipSpace(t, p);
    if (p >= t.length) return stop("MALFORMED", `<${root}> is never closed.`);
    if (t.charCodeAt(p) !== LT) return stop("MALFORMED", `Text outside any field inside <${root}>.`);
    const next = t.charCodeAt(p + 1);
    if (next === SLASH) {
      const at = p + 2;
      const closingEnd = nameEnd(t, at);
      const gt = skipSpace(t, closingEnd);
      if (closingEnd === at || t.slice(at, closingEnd) !== root || t.charCodeAt(gt) !== GT) {
        return stop("MALFORMED", `<${root}> is closed by </${t.slice(at, closingEnd)}>.`);
      }
      if (skipSpace(t, gt + 1) !== t.length) return stop("MALFORMED", `Content follows </${root}>.`);
      previousNames = names;
      return true;
    }
    if (next === BANG || next === QUESTION) return stop("MALFORMED", `<${root}> may only contain elements.`);
    const nameStart = p + 1;
    // Messages of one kind repeat their names in the same order: the previous document's name at this
    // position, when it is the one here, is taken instead of a new string (no slice, already interned).
    const expected = previousNames[names.length];
    let name: string;
    if (expected !== undefined && t.startsWith(expected, nameStart) && !isNameChar(t.charCodeAt(nameStart + expected.length))) {
      name = expected;
      p = nameStart + expected.length;
    } else {
      p = nameEnd(t, nameStart);
      if (p === nameStart) return stop("MALFORMED", "A field has no valid element name.");
      name = t.slice(nameStart, p);
    }
    if (isForbiddenName(name)) return stop("FORBIDDEN_NAME", `Element name <${name}> is not allowed.`);
    // Values are always strings: undefined means absent (the record has no prototype to inherit from).
    if (fields[name] !== undefined) return stop("DUPLICATE_TAG", `Field <${name}> appears more than once.`);
    p = skipSpace(t, p);
    let value: string | undefined;
    if (t.charCodeAt(p) === SLASH && t.charCodeAt(p + 1) === GT) {
      value = "";
      p += 2;
    } else {
      if (t.charCodeAt(p) !== GT) return stop("MALFORMED", `Element <${name}> has attributes or a malformed tag.`);
      value = readContent(t, p + 1, name);
      if (value === undefined) return false;
      p = contentEnd;
    }
    fields[name] = value;
    names.push(name);
    values.push(value);
  }
}

/** A flat document: the record, and its field names and values in document order (what a signature check walks). */
export interface FlatXml {
  readonly fields: XmlFields;
  readonly names: readonly string[];
  readonly values: readonly string[];
}

/** Decodes and screens the whole input: size, encoding, emptiness, DTDs, characters XML forbids. */
function documentText(input: string | Uint8Array, maxBytes: number): string | undefined {
  let text: string;
  if (typeof input === "string") {
    if (input.length > maxBytes || Buffer.byteLength(input, "utf8") > maxBytes) return fail("TOO_LARGE", `The document is larger than ${maxBytes} bytes.`);
    if (!input.isWellFormed()) return fail("INVALID_UTF8", "The document contains unpaired surrogates.");
    text = input;
  } else {
    if (input.byteLength > maxBytes) return fail("TOO_LARGE", `The document is larger than ${maxBytes} bytes.`);
    try {
      text = utf8.decode(input);
    } catch {
      return fail("INVALID_UTF8", "The document is not valid UTF-8.");
    }
  }
  // \s is exactly the set String#trim removes: a blank document, without copying a trimmed one.
  if (BLANK.test(text)) return fail("EMPTY", "The document is empty.");
  if (DTD_MARKERS.test(text)) return fail("DTD_FORBIDDEN", "DOCTYPE and ENTITY declarations are not accepted.");
  if (INVALID_XML_CHARS.test(text)) return fail("MALFORMED", "The document contains control characters XML does not allow.");
  return text;
}

/**
 * Parses a flat v2 XML document like `parseXml`, and also lists its field names and values in document
 * order: a signature check walks them without asking the (prototype-less, hence dictionary) record.
 */
export function parseXmlFlat(input: string | Uint8Array, options: ParseXmlOptions = {}): Result<FlatXml, XmlErrorCode> {
  const text = documentText(input, options.maxBytes ?? DEFAULT_MAX_XML_BYTES);
  if (text === undefined) return err(failCode, failMessage);
  const fields: XmlFields = Object.create(null) as XmlFields;
  const names: string[] = [];
  const values: string[] = [];
  if (!parseDocument(text, options.root ?? "xml", fields, names, values)) return err(failCode, failMessage);
  return ok({ fields, names, values });
}

/**
 * Parses a flat v2 XML document (`<xml>` or the refund `<root>`) from untrusted bytes or text.
 * Rejects DTDs and entities, nested elements, duplicate tags, prototype-polluting names,
 * invalid UTF-8 and oversize input; keeps every value as its exact string.
 */
export function parseXml(input: string | Uint8Array, options: ParseXmlOptions = {}): Result<XmlFields, XmlErrorCode> {
  const parsed = parseXmlFlat(input, options);
  return parsed.ok ? ok(parsed.value.fields) : parsed;
}
