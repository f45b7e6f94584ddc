const EQUALS = 0x3d;

/**
 * Strict standard base64 (padded, no whitespace, no URL alphabet): the language of
 * `/^[A-Za-z0-9+/]+={0,2}$/` with a length that is a multiple of 4. Buffer.from(text, "base64") skips
 * anything it does not understand, so a probe like `WECHATPAY/SIGNTEST/...` would decode to garbage
 * instead of being refused; this returns undefined for it.
 *
 * Checked without a regular expression over the text (a notify decodes ~1 kB of base64 per call): the
 * text must be ASCII (Node reads only the low byte of a wider character), hold neither `-` nor `_` (the
 * URL alphabet, which Node also decodes), and decode to exactly 3 bytes per 4 characters less the
 * padding. Every other character, a misplaced `=` included, makes Node skip or stop, so the length
 * comes out short. crypto.test.ts checks agreement with the regular expression on generated text.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const length = text.length;
  if (length === 0 || length % 4 !== 0) return undefined;
  if (text.includes("-") || text.includes("_") || Buffer.byteLength(text, "utf8") !== length) return undefined;
  const padding = text.charCodeAt(length - 1) === EQUALS ? (text.charCodeAt(length - 2) === EQUALS ? 2 : 1) : 0;
  const bytes = Buffer.from(text, "base64");
  return bytes.length === (length / 4) * 3 - padding ? bytes : undefined;
}
