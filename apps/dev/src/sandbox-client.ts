import { buildControlRequest, type SandboxControlBody, type SandboxControlCall, type SandboxControlQuery } from "@pay/sandbox/control";
import type { ShownRequest } from "./api-client.js";

/** A control call as the demo shows it, built from @pay/sandbox/control's route table (the client sends the same). */
export function shownControlRequest<N extends SandboxControlCall>(
  baseUrl: string,
  call: N,
  input: { readonly body?: SandboxControlBody<N>; readonly query?: SandboxControlQuery<N> } = {},
): ShownRequest {
  const request = buildControlRequest(call, input);
  return { method: request.method, url: `${baseUrl}${request.path}`, headers: {}, body: request.body };
}
