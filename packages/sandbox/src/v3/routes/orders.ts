// PLACEHOLDER: replaced by the orders work (helper). Every handler must be real before this lands.
import type { SandboxContext } from "../../context.js";
import { replyV3Error, type V3Call } from "../http.js";

function notYet(sandbox: SandboxContext, call: V3Call): void {
  replyV3Error(sandbox, call.ctx, 500, { code: "SYSTEM_ERROR", message: "not implemented yet" });
}
export const jsapiOrder = notYet;
export const partnerJsapiOrder = notYet;
export const globalJsapiOrder = notYet;
export const queryOrder = notYet;
export const closeOrder = notYet;
