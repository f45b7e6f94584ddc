import { buildXml } from "../xml/build.js";

/** The exact acknowledgement WeChat Pay expects; anything else makes it retry. */
export const NOTIFY_SUCCESS_REPLY = "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>";

/** A FAIL reply: the gateway will deliver the notify again later. */
export function buildNotifyFailReply(reason: string): string {
  return buildXml({ return_code: "FAIL", return_msg: reason.slice(0, 128) || "FAIL" });
}
