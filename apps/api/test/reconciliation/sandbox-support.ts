// The API against a real sandbox on one moved clock, for the reconciliation tests: every class of
// difference is made through the sandbox's control calls, and the day's bill is the sandbox's own.
import { OrderPaymentResponseSchema, type OrderPaymentResponse } from "@pay/core/contract";
import { createManualClock, type ManualClock } from "@pay/sandbox";
import type { DatabaseDialect } from "../../src/db/database.js";
import { startApiHarness, type ApiHarness } from "../support/api-harness.js";

const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** 2026-11-20 00:00 Beijing: the first bill day of the suites. */
export const FIRST_DAY_START = Date.UTC(2026, 10, 19, 16, 0, 0);

/** The Beijing day (YYYY-MM-DD) `n` days after the first one. */
export function billDate(n: number): string {
  return new Date(FIRST_DAY_START + n * DAY + 8 * HOUR).toISOString().slice(0, 10);
}

/** The API and its sandbox sharing one manual clock (the API's clock, the sandbox's, and the v3 signatures'). */
export interface ReconciliationHarness extends ApiHarness {
  readonly clock: ManualClock;
  /** Moves the shared clock to `hours` past the start of day `n` (Beijing), firing the sandbox's due timers. */
  moveTo(n: number, hours: number): Promise<void>;
}

/**
 * Starts the API (v2, or v3 as the direct APIv3 merchant) on `kind` against a real sandbox, at 12:00 Beijing
 * on the first bill day. Refunds stay PROCESSING at the sandbox until a test settles them. The API, the sandbox
 * and the v3 gateway's signatures share the moved clock (the sandbox checks a request's timestamp against it).
 */
export async function startReconciliationHarness(kind: DatabaseDialect, protocol: "v2" | "v3"): Promise<ReconciliationHarness> {
  const clock = createManualClock(FIRST_DAY_START + 12 * HOUR);
  const moveTo = async (n: number, hours: number): Promise<void> => {
    const target = FIRST_DAY_START + n * DAY + hours * HOUR;
    if (target < clock.now()) throw new Error(`moveTo: the clock only moves forward (${new Date(target).toISOString()})`);
    await clock.advance(target - clock.now());
  };
  const now = (): number => clock.now();
  const h = await startApiHarness(kind, { protocol, clock: now, gatewayClock: now, sandbox: { clock, refundSettleMs: null } });
  return { ...h, clock, moveTo };
}

function v3PaymentFields(payment: Partial<OrderPaymentResponse["payment"]> & { package: string }) {
  const { timeStamp, nonceStr, signType, paySign } = payment;
  if (timeStamp === undefined || nonceStr === undefined || signType === undefined || paySign === undefined) throw new Error("a v3 payment needs all the params the API handed out");
  return { timeStamp, nonceStr, package: payment.package, signType, paySign };
}

/** An order placed through the API by a signed-in user: the order and the wx.requestPayment params. */
export async function placeOrder(h: ApiHarness, token: string, productId = "coffee-beans", quantity = 1): Promise<OrderPaymentResponse> {
  const answer = await h.request("POST", "/api/orders", { token, body: { items: [{ productId, quantity }] } });
  if (answer.status !== 201) throw new Error(`order refused: ${answer.status} ${JSON.stringify(answer.body)}`);
  return OrderPaymentResponseSchema.parse(answer.body);
}

/** Plays the payer at the sandbox; with `notify: false` the API never hears of the payment. */
export async function payAtSandbox(h: ApiHarness, placed: OrderPaymentResponse, notify = true): Promise<void> {
  const prepayId = placed.payment.package.replace(/^prepay_id=/, "");
  await h.control.pay({ prepay_id: prepayId, outcome: "success", notify, ...(h.protocol === "v3" ? { payment: v3PaymentFields(placed.payment) } : {}) });
}
