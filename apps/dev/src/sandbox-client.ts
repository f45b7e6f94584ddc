import { z } from "zod";
import type { ShownRequest } from "./api-client.js";

/** POST /sandbox/login-codes: what wx.login hands the mini-program (and, for the demo, the openid behind it). */
export const LoginCodeAnswerSchema = z.object({ code: z.string().min(1), openid: z.string().min(1) });

/** An order as GET /sandbox/orders and POST /sandbox/pay show it: the gateway's view, snake_case. */
export const SandboxOrderViewSchema = z.object({
  mch_id: z.string(),
  sub_mch_id: z.string().nullable(),
  out_trade_no: z.string(),
  total_fee: z.number().int(),
  fee_type: z.string(),
  trade_state: z.string(),
  transaction_id: z.string().nullable(),
  cash_fee: z.number().int().nullable(),
  cash_fee_type: z.string().nullable(),
  rate: z.number().int().nullable(),
  refunds: z.array(z.object({ out_refund_no: z.string(), refund_fee: z.number().int(), refund_status: z.string() })),
});
export type SandboxOrderView = z.infer<typeof SandboxOrderViewSchema>;

/** POST /sandbox/pay: the errMsg wx.requestPayment would give the mini-program. */
export const PayAnswerSchema = z.object({ outcome: z.string(), errMsg: z.string(), order: SandboxOrderViewSchema });

export const OrdersAnswerSchema = z.object({ orders: z.array(SandboxOrderViewSchema) });

/** One notify attempt as GET /sandbox/deliveries lists it. */
export const DeliveriesAnswerSchema = z.object({
  deliveries: z.array(z.object({ attempt: z.number().int(), outcome: z.string(), httpStatus: z.number().int().nullable().optional(), durationMs: z.number(), url: z.string() })),
});

export type SandboxAnswer<T> = { readonly ok: true; readonly status: number; readonly body: T } | { readonly ok: false; readonly status: number; readonly message: string };

/** Calls the sandbox's control API (plain HTTP) and checks the answer's shape. */
export async function callSandbox<T>(
  baseUrl: string,
  method: "GET" | "POST",
  path: string,
  schema: z.ZodType<T>,
  body?: unknown,
): Promise<{ request: ShownRequest; answer: SandboxAnswer<T> }> {
  const request: ShownRequest = { method, url: `${baseUrl}${path}`, headers: {}, body };
  const response = await fetch(request.url, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }) });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    return { request, answer: { ok: false, status: response.status, message: `not JSON: ${text.slice(0, 200)}` } };
  }
  if (!response.ok) return { request, answer: { ok: false, status: response.status, message: JSON.stringify(json) } };
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { request, answer: { ok: false, status: response.status, message: `unexpected answer: ${parsed.error.issues[0]?.message ?? ""}` } };
  return { request, answer: { ok: true, status: response.status, body: parsed.data } };
}
