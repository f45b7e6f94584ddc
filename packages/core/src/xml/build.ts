import { PayCoreError } from "../errors.js";
import { INVALID_XML_CHARS, type XmlRoot } from "./parse.js";

/** A value the builder writes; `undefined`, `null` and `''` fields are left out, as they are from the signature. */
export type XmlValue = string | number | bigint | null | undefined;

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const PLAIN = /^-?[0-9]+$/;
const FORBIDDEN_NAMES = new Set(["__proto__", "constructor", "prototype"]);

function cdata(text: string): string {
  // "]]>" cannot appear inside one CDATA section: split it across two.
  return `<![CDATA[${text.replaceAll("]]>", "]]]]><![CDATA[>")}]]>`;
}

/**
 * Builds a flat v2 document. Integers are written plain and all other text in CDATA, the way
 * the gateway writes them. Throws on a name XML or the protocol cannot carry.
 */
export function buildXml(fields: Readonly<Record<string, XmlValue>> | ReadonlyArray<readonly [string, XmlValue]>, root: XmlRoot = "xml"): string {
  let out = `<${root}>`;
  const entries = Array.isArray(fields) ? (fields as ReadonlyArray<readonly [string, XmlValue]>) : Object.entries(fields as Readonly<Record<string, XmlValue>>);
  for (const [name, value] of entries) {
    if (!NAME.test(name) || FORBIDDEN_NAMES.has(name)) {
      throw new PayCoreError("INVALID_KEY", `"${name}" cannot be an element name.`);
    }
    if (value === undefined || value === null || value === "") continue;
    let text: string;
    if (typeof value === "string") text = value;
    else if (typeof value === "bigint") text = value.toString();
    else if (typeof value === "number" && Number.isFinite(value) && !String(value).includes("e")) text = String(value);
    else throw new PayCoreError("UNSUPPORTED_VALUE", `Field "${name}" cannot be written as XML text.`);
    if (text.isWellFormed() === false || INVALID_XML_CHARS.test(text)) {
      throw new PayCoreError("UNSUPPORTED_VALUE", `Field "${name}" holds characters XML cannot carry.`);
    }
    out += `<${name}>${PLAIN.test(text) ? text : cdata(text)}</${name}>`;
  }
  return `${out}</${root}>`;
}
