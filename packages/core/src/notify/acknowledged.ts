import { parseXml } from "../xml/parse.js";

/** True when a receiver's reply body acknowledges a notify: `return_code` is SUCCESS. */
export function isNotifyAcknowledged(body: string | Uint8Array): boolean {
  const parsed = parseXml(body, { maxBytes: 4096 });
  return parsed.ok && parsed.value.return_code === "SUCCESS";
}
