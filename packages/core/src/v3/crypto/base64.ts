const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Strict standard base64 (padded, no whitespace, no URL alphabet). Buffer.from(text, "base64") skips
 * anything it does not understand, so a probe like `WECHATPAY/SIGNTEST/...` would decode to garbage
 * instead of being refused; this returns undefined for it.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (text.length === 0 || !BASE64.test(text)) return undefined;
  return Buffer.from(text, "base64");
}
