// Orders, notifies and sandbox look-ups shared by the reliability tests.
import type { XmlValue } from "@pay/core";
import type { OrderPaymentResponse } from "@pay/core/contract";
import { createSandboxControlClient, SandboxControlError, FaultSchema, type DeliveryAttemptView, type DeliveryKind, type SandboxOrderView } from "@pay/sandbox/control";
import { MERCHANT, type ApiHarness } from "../support/api-harness.js";

/** A signed-in user's new pending order, through POST /api/orders. */
export async function createPendingOrder(h: ApiHarness, user = `user-${Math.random()}`, productId = "tote"): Promise<OrderPaymentResponse & { token: string }> {
  const token = await h.signIn(user);
  const answer = await h.request("POST", "/api/orders", { token, body: { items: [{ productId, quantity: 1 }] } });
  if (answer.status !== 201) throw new Error(`creating an order failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return { ...(answer.body as unknown as OrderPaymentResponse), token };
}

/** The gateway's record of an order. */
export async function sandboxOrder(sandboxUrl: string, outTradeNo: string): Promise<SandboxOrderView> {
  const view = await createSandboxControlClient({ baseUrl: sandboxUrl }).listOrders({ out_trade_no: outTradeNo });
  const order = view.orders[0];
  if (order === undefined) throw new Error(`the sandbox has no order ${outTradeNo}`);
  return order;
}

/** Every pay or refund notify attempt the sandbox made. */
export async function deliveries(sandboxUrl: string, kind: DeliveryKind): Promise<DeliveryAttemptView[]> {
  return (await createSandboxControlClient({ baseUrl: sandboxUrl }).listDeliveries({ kind })).deliveries;
}

/** Queues faults for the next `times` requests on a gateway path. */
export async function injectFaults(sandboxUrl: string, path: string, faults: readonly unknown[], times = 10): Promise<void> {
  await createSandboxControlClient({ baseUrl: sandboxUrl }).addFault({ path, faults: faults.map((fault) => FaultSchema.parse(fault)), times });
}

/** Drops every queued fault. */
export async function clearFaults(sandboxUrl: string): Promise<void> {
  await createSandboxControlClient({ baseUrl: sandboxUrl }).clearFaults();
}

/** The fields of a successful pay notify for `order`, as the gateway sends them (direct mode). */
export function payNotifyFields(
  order: { readonly id: string; readonly totalFee: number },
  overrides: Readonly<Record<string, XmlValue | undefined>> = {},
): Record<string, XmlValue> {
  const fields: Record<string, XmlValue | undefined> = {
    return_code: "SUCCESS",
    result_code: "SUCCESS",
    appid: MERCHANT.appId,
    mch_id: MERCHANT.mchId,
    openid: "oUser",
    trade_type: "JSAPI",
    bank_type: "OTHERS",
    total_fee: order.totalFee,
    fee_type: "CNY",
    cash_fee: order.totalFee,
    transaction_id: `4200000${Date.now()}`.padEnd(28, "7"),
    out_trade_no: order.id,
    time_end: "20260101120000",
    ...overrides,
  };
  return Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, XmlValue] => entry[1] !== undefined));
}

/** The decrypted refund notify payload for one of our refunds. */
export function refundPayload(
  refund: { readonly orderId: string; readonly refundId: string; readonly totalFee: number; readonly refundFee: number },
  overrides: Readonly<Record<string, XmlValue>> = {},
): Record<string, XmlValue> {
  return {
    transaction_id: "4200000000000000000000000001",
    out_trade_no: refund.orderId,
    refund_id: "50300000000000000000000000001",
    out_refund_no: refund.refundId,
    total_fee: refund.totalFee,
    refund_fee: refund.refundFee,
    refund_status: "SUCCESS",
    success_time: "2026-01-01 12:00:00",
    ...overrides,
  };
}

/** Waits (real time) until `check` holds, polling every 20 ms. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`waitFor: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface JsonAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly ms: number;
}

/** A JSON request to an API at `baseUrl` (a child process, say), with an optional session or admin token. */
export async function requestJson(
  baseUrl: string,
  method: string,
  path: string,
  options: { readonly token?: string; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> } = {},
): Promise<JsonAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const started = performance.now();
  const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    body = { text };
  }
  return { status: response.status, body, ms: Math.round(performance.now() - started) };
}

/** Signs `user` in at an API through a sandbox login code, as wx.login + POST /api/session would. */
export async function signInAt(apiUrl: string, sandboxUrl: string, user: string): Promise<string> {
  const { code } = await createSandboxControlClient({ baseUrl: sandboxUrl }).createLoginCode({ appid: MERCHANT.appId, user });
  const session = await requestJson(apiUrl, "POST", "/api/session", { body: { code } });
  if (session.status !== 200) throw new Error(`sign-in failed: ${session.status} ${JSON.stringify(session.body)}`);
  return session.body.token as string;
}

/** Plays the payer at the sandbox for payment params the API handed out. */
export async function payAtSandbox(
  sandboxUrl: string,
  payment: { readonly package: string },
  outcome: "success" | "cancel" | "fail" = "success",
): Promise<Record<string, unknown>> {
  try {
    return await createSandboxControlClient({ baseUrl: sandboxUrl }).pay({ prepay_id: payment.package.replace(/^prepay_id=/, ""), outcome });
  } catch (error) {
    // A refused payment is an answer the tests look at, not a failure.
    if (error instanceof SandboxControlError && error.answer !== undefined) return error.answer;
    throw error;
  }
}
