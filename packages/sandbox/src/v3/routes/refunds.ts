// PLACEHOLDER: replaced by the refunds work (helper). Every handler must be real before this lands.
import type { SandboxContext } from "../../context.js";
import { replyV3Error, type V3Call } from "../http.js";

function notYet(sandbox: SandboxContext, call: V3Call): void {
  replyV3Error(sandbox, call.ctx, 500, { code: "SYSTEM_ERROR", message: "not implemented yet" });
}
export const createRefund = notYet;
export const queryRefund = notYet;
export const globalCreateRefund = notYet;
export const globalQueryRefund = notYet;
