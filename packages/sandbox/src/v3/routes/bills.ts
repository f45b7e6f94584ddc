// PLACEHOLDER: replaced by the bills work (helper). Every handler must be real before this lands.
import type { Context } from "koa";
import type { SandboxContext } from "../../context.js";
import { replyV3Error, type V3Call } from "../http.js";

export function tradeBill(sandbox: SandboxContext, call: V3Call): void {
  replyV3Error(sandbox, call.ctx, 500, { code: "SYSTEM_ERROR", message: "not implemented yet" });
}
export const fundFlowBill = tradeBill;
export function downloadBillFile(sandbox: SandboxContext, ctx: Context): void {
  replyV3Error(sandbox, ctx, 500, { code: "SYSTEM_ERROR", message: "not implemented yet" });
}
