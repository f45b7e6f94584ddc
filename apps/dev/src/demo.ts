import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatMoney, type Currency, type Money } from "@pay/core";
import type { Order, WebhookEvent } from "@pay/core/contract";
import { createSandboxControlClient, SANDBOX_CONTROL_ROUTES, SandboxControlError, type SandboxControlClient } from "@pay/sandbox/control";
import { createApiClient, type ShownRequest } from "./api-client.js";
import { jsonText } from "./json-text.js";
import { formatLogLine } from "./log-format.js";
import { MODE_PROFILES, type DevMode } from "./modes.js";
import { waitWithProgress, type DemoOutput } from "./progress.js";
import { shownControlRequest } from "./sandbox-client.js";
import { startDevStack, type DevStack } from "./stack.js";

export interface RunDemoOptions {
  readonly mode: DevMode;
  readonly output: DemoOutput;
  /** Default: a new temporary folder, removed afterwards, so a running `pnpm start` is never touched. */
  readonly dataDir?: string;
  /** How long each wait for a notify may take; default 20 s. */
  readonly waitTimeoutMs?: number;
}

/** How the walk went: `exitCode` is what a CLI should exit with. */
export interface DemoResult {
  readonly mode: DevMode;
  readonly ok: boolean;
  readonly exitCode: 0 | 1;
  readonly orderId: string | undefined;
  readonly paid: Money | undefined;
  readonly refunded: Money | undefined;
  /** The failed step and why, when one failed. */
  readonly failure: string | undefined;
  readonly elapsedMs: number;
}

/** A step that did not go as the mini-program expects; ends the walk. */
class StepFailed extends Error {}

const BODY_SHOWN_CHARS = 180;
/** API log lines shown after a failure, to say what the server saw. */
const LOG_LINES_SHOWN = 8;

function shortJson(value: unknown): string {
  const text = jsonText(value) ?? "";
  return text.length > BODY_SHOWN_CHARS ? `${text.slice(0, BODY_SHOWN_CHARS - 3)}...` : text;
}

function money(amount: number, currency: Currency): string {
  return formatMoney({ amount, currency });
}

/** An exchange rate as WeChat Pay Global sends it (x 10^8), in decimal: 91000000 -> "0.91000000". */
export function formatRate(rate: number): string {
  const digits = String(rate).padStart(9, "0");
  return `${digits.slice(0, -8)}.${digits.slice(-8)}`;
}

/** The demo's voice: numbered steps, the request, and the outcome. */
class Narrator {
  private step = 0;
  current = "";
  constructor(
    private readonly output: DemoOutput,
    private readonly stack: DevStack,
  ) {}

  say(text: string): void {
    this.output.write(`${text}\n`);
  }

  begin(title: string): void {
    this.step += 1;
    this.current = `step ${this.step} (${title})`;
    this.say(`\n${String(this.step).padStart(2)}. ${title}`);
  }

  request(request: ShownRequest, secrets: Readonly<Record<string, string>> = {}): void {
    const url = new URL(request.url);
    const server = url.origin === this.stack.apiUrl ? "API" : "sandbox";
    const headers = Object.entries(request.headers)
      .filter(([name]) => name !== "content-type")
      .map(([name, value]) => `${name}: ${secrets[name] ?? value}`);
    const body = request.body === undefined ? "" : ` ${shortJson(request.body)}`;
    this.say(`    -> ${server} ${request.method} ${url.pathname}${url.search}${headers.length > 0 ? `  [${headers.join("; ")}]` : ""}${body}`);
  }

  ok(text: string): void {
    this.say(`    ✓ ${text}`);
  }

  note(text: string): void {
    this.say(`      ${text}`);
  }

  fail(message: string): never {
    this.say(`    ✗ ${message}`);
    throw new StepFailed(`${this.current}: ${message}`);
  }

  /** The body of a successful API answer, or the step fails with the API's code and message. */
  expectApi<T>(
    answer: { readonly ok: true; readonly body: T } | { readonly ok: false; readonly status: number; readonly error: { readonly code: string; readonly message: string } },
  ): T {
    if (!answer.ok) return this.fail(`${answer.status} ${answer.error.code}: ${answer.error.message}`);
    return answer.body;
  }

  /** The answer of a control call, or the step fails with what the sandbox answered. */
  async expectSandbox<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (error) {
      if (!(error instanceof SandboxControlError)) throw error;
      return this.fail(`${error.status ?? "no answer"} from the sandbox: ${error.message}`);
    }
  }
}

/** The order, in the API's words, with its refunded part when there is one. */
function orderText(order: Order): string {
  const refunded = order.refundedFee > 0 ? `, refunded ${money(order.refundedFee, order.feeType)}` : "";
  return `order ${order.id} ${order.status}, total ${money(order.totalFee, order.feeType)}${refunded}`;
}

async function walk(
  stack: DevStack,
  narrator: Narrator,
  output: DemoOutput,
  waitTimeoutMs: number,
  result: { orderId?: string; paid?: Money; refunded?: Money },
  fulfilmentLines: readonly string[],
): Promise<void> {
  const api = createApiClient(stack.apiUrl);
  const sandboxUrl = stack.sandboxUrl;
  const control = createSandboxControlClient({ baseUrl: sandboxUrl });
  const { merchant } = stack;

  narrator.begin("wx.login: the Mini Program gets a login code (the sandbox plays WeChat)");
  const loginBody = { appid: merchant.miniProgramAppId, user: "demo-buyer" };
  narrator.request(shownControlRequest(sandboxUrl, "createLoginCode", { body: loginBody }));
  const code = await narrator.expectSandbox(control.createLoginCode(loginBody));
  narrator.ok(`${SANDBOX_CONTROL_ROUTES.createLoginCode.status} code ${code.code} (for the buyer's openid ${code.openid} under ${merchant.miniProgramAppId})`);

  narrator.begin("Sign in: the API trades the code for a session (jscode2session)");
  const session = await api.call("createSession", { body: { code: code.code } });
  narrator.request(session.request);
  const token = narrator.expectApi(session.answer).token;
  narrator.ok(`${session.answer.status} session token (${token.length} characters), expires ${narrator.expectApi(session.answer).expiresAt}`);
  const userSecrets = { authorization: "Bearer <session token>" };
  /** GET /api/orders/:id as the result page polls it, shown once before each wait. */
  const orderPoll = (id: string): ShownRequest => ({ method: "GET", url: `${stack.apiUrl}/api/orders/${id}`, headers: userSecrets, body: undefined });

  narrator.begin("Products: the catalogue, priced by the server");
  const listed = await api.call("listProducts");
  narrator.request(listed.request);
  const { products } = narrator.expectApi(listed.answer);
  if (products.length === 0) narrator.fail(`no products are priced in ${merchant.feeType}`);
  narrator.ok(`${listed.answer.status} ${products.length} products: ${products.map((p) => `${p.name} ${money(p.price, p.currency)}`).join(", ")}`);

  narrator.begin(
    stack.v3 === undefined
      ? "Order: the API calls unifiedorder and signs the wx.requestPayment params"
      : `Order: the API places a signed APIv3 JSAPI order (${stack.v3.account === "global" ? "/v3/global/transactions/jsapi" : merchant.subMchId === undefined ? "/v3/pay/transactions/jsapi" : "/v3/pay/partner/transactions/jsapi"}) and signs the wx.requestPayment params with RSA`,
  );
  const [first, second] = products;
  const items = second === undefined ? [{ productId: first?.id ?? "", quantity: 2 }] : [first, second].map((p) => ({ productId: p?.id ?? "", quantity: 1 }));
  const created = await api.call("createOrder", { body: { items }, token, idempotencyKey: `demo-order-${randomBytes(6).toString("hex")}` });
  narrator.request(created.request, userSecrets);
  const { order, payment } = narrator.expectApi(created.answer);
  result.orderId = order.id;
  if (order.status !== "pending") narrator.fail(`a new order should be pending, not ${order.status}`);
  narrator.ok(`${created.answer.status} ${orderText(order)} (${order.items.map((i) => `${i.quantity} x ${i.name}`).join(", ")})`);
  narrator.note(
    `wx.requestPayment({ timeStamp: "${payment.timeStamp}", nonceStr: "${payment.nonceStr}", package: "${payment.package}", signType: "${payment.signType}", paySign: "${payment.paySign.slice(0, 12)}..." })`,
  );

  narrator.begin("Pay: what wx.requestPayment does, at the sandbox");
  const prepayId = payment.package.slice("prepay_id=".length);
  narrator.note(`(a person would open ${control.cashierUrl(prepayId)})`);
  // APIv3: wx.requestPayment hands WeChat the five fields, and the sandbox checks the RSA paySign as WeChat does.
  const payBody = { prepay_id: prepayId, outcome: "success" as const, ...(payment.signType === "RSA" ? { payment } : {}) };
  narrator.request(shownControlRequest(sandboxUrl, "pay", { body: payBody }));
  const payAnswer = await narrator.expectSandbox(control.pay(payBody));
  if (payAnswer.errMsg !== "requestPayment:ok") narrator.fail(`wx.requestPayment would answer ${payAnswer.errMsg}`);
  narrator.ok(`${SANDBOX_CONTROL_ROUTES.pay.status} ${payAnswer.errMsg}, transaction_id ${payAnswer.order.transaction_id ?? "(none)"}`);

  narrator.begin("Pay notify: wait until the API says paid (GET /api/orders/:id, as the result page polls)");
  narrator.request(orderPoll(order.id));
  const paidWait = await waitWithProgress({
    label: "the pay notify",
    output,
    indent: "    ",
    timeoutMs: waitTimeoutMs,
    check: async () => {
      const answer = (await api.call("getOrder", { id: order.id, token })).answer;
      return answer.ok && answer.body.order.status === "paid" ? answer.body.order : undefined;
    },
  });
  const paidOrder = paidWait.value;
  if (paidOrder === undefined) narrator.fail(`the order was not paid within ${waitTimeoutMs / 1000} s`);
  result.paid = { amount: paidOrder.totalFee, currency: paidOrder.feeType };
  narrator.ok(`${orderText(paidOrder)} after ${(paidWait.elapsedMs / 1000).toFixed(1)} s, transaction_id ${paidOrder.transactionId ?? "(none)"}`);
  await showDeliveries(narrator, control, order.id, "pay");
  await showGatewayView(narrator, stack, control, order.id, code.openid);

  narrator.begin(`Partial refund: an admin refunds one item (${stack.v3 === undefined ? "over mutual TLS to the gateway" : "a signed APIv3 request to the gateway"})`);
  const lastItem = paidOrder.items[paidOrder.items.length - 1];
  const refundFee = lastItem?.unitPrice ?? 1;
  if (refundFee >= paidOrder.totalFee) narrator.fail(`the refund of ${money(refundFee, paidOrder.feeType)} would not be partial`);
  const refund = await api.call("createRefund", {
    id: order.id,
    body: { refundFee, reason: `demo: ${lastItem?.name ?? "one item"} returned` },
    token: stack.config.adminToken,
    idempotencyKey: `demo-refund-${order.id}`,
  });
  narrator.request(refund.request, { authorization: "Bearer <ADMIN_TOKEN>" });
  const refunded = narrator.expectApi(refund.answer);
  narrator.ok(
    `${refund.answer.status} refund ${refunded.refund.id} ${refunded.refund.status}, ${money(refunded.refund.refundFee, refunded.refund.currency)} of ${money(paidOrder.totalFee, paidOrder.feeType)}`,
  );

  narrator.begin("Refund notify: wait until the API counts the refund");
  narrator.request(orderPoll(order.id));
  const refundWait = await waitWithProgress({
    label: "the refund notify",
    output,
    indent: "    ",
    timeoutMs: waitTimeoutMs,
    check: async () => {
      const answer = (await api.call("getOrder", { id: order.id, token })).answer;
      return answer.ok && answer.body.order.refundedFee > 0 ? answer.body.order : undefined;
    },
  });
  const refundedOrder = refundWait.value;
  if (refundedOrder === undefined) narrator.fail(`no refund was counted within ${waitTimeoutMs / 1000} s`);
  if (refundedOrder.refundedFee !== refundFee) narrator.fail(`refundedFee is ${refundedOrder.refundedFee}, expected ${refundFee}`);
  if (refundedOrder.status !== "paid") narrator.fail(`a partly refunded order stays paid, not ${refundedOrder.status}`);
  result.refunded = { amount: refundedOrder.refundedFee, currency: refundedOrder.feeType };
  narrator.ok(
    `${orderText(refundedOrder)} after ${(refundWait.elapsedMs / 1000).toFixed(1)} s; ${money(refundedOrder.totalFee - refundedOrder.refundedFee, refundedOrder.feeType)} stays paid`,
  );
  await showDeliveries(narrator, control, order.id, "refund");

  narrator.begin("Webhooks: the shop's fulfilment receiver gets order.paid and refund.succeeded, signed by the API and verified");
  narrator.note(`(the API delivers every order event to WEBHOOK_URL ${stack.fulfilment.url}; the receiver checks Pay-Signature over the raw body with verifyWebhook)`);
  const wanted = [
    { type: "order.paid", matches: (e: WebhookEvent) => "order" in e.data && e.data.order.id === order.id && e.data.order.status === "paid" },
    { type: "refund.succeeded", matches: (e: WebhookEvent) => "refund" in e.data && e.data.refund.id === refunded.refund.id && e.data.refund.orderId === order.id },
  ] as const;
  const eventsWait = await waitWithProgress({
    label: "the webhooks",
    output,
    indent: "    ",
    timeoutMs: waitTimeoutMs,
    check: () => {
      const received = stack.fulfilment.events();
      const found = wanted.map((w) => received.find((e) => e.type === w.type && w.matches(e)));
      return Promise.resolve(found.every((e) => e !== undefined) ? found : undefined);
    },
  });
  for (const line of fulfilmentLines) narrator.note(line);
  const refusals = stack.fulfilment.refusals();
  if (refusals.length > 0) narrator.fail(`the receiver refused ${refusals.length} deliveries (${refusals.join(", ")})`);
  if (eventsWait.value === undefined) {
    const missing = wanted.filter((w) => !stack.fulfilment.events().some((e) => e.type === w.type && w.matches(e))).map((w) => w.type);
    narrator.fail(`${missing.join(" and ")} did not reach the fulfilment receiver within ${waitTimeoutMs / 1000} s`);
  }
  narrator.ok(`order.paid and refund.succeeded for ${order.id} arrived, verified, after ${(eventsWait.elapsedMs / 1000).toFixed(1)} s`);
}

/** What the sandbox recorded of its notify attempts: proof the notify (not a query) did the work. */
async function showDeliveries(narrator: Narrator, control: SandboxControlClient, orderId: string, kind: "pay" | "refund"): Promise<void> {
  const { deliveries } = await narrator.expectSandbox(control.listDeliveries({ out_trade_no: orderId, kind }));
  const acknowledged = deliveries.find((d) => d.outcome === "acknowledged");
  if (acknowledged === undefined) {
    narrator.note(`${kind} notify: ${deliveries.length} attempt(s), none acknowledged yet; the API learnt it by query instead`);
    return;
  }
  narrator.note(
    `${kind} notify: attempt ${acknowledged.attempt} to ${new URL(acknowledged.url).pathname} acknowledged (HTTP ${acknowledged.httpStatus ?? "?"}, ${Math.round(acknowledged.durationMs)} ms)`,
  );
}

/** Global and institutional details only the gateway sees: the payer's CNY amount, the sub-merchant ids. */
async function showGatewayView(narrator: Narrator, stack: DevStack, control: SandboxControlClient, orderId: string, buyerOpenid: string): Promise<void> {
  const { merchant } = stack;
  if (merchant.feeType !== "CNY") {
    const query = { out_trade_no: orderId };
    narrator.request(shownControlRequest(stack.sandboxUrl, "listOrders", { query }));
    const view = (await narrator.expectSandbox(control.listOrders(query))).orders[0];
    if (view === undefined) return narrator.fail(`the sandbox has no order ${orderId}`);
    if (view.cash_fee === null || view.cash_fee_type !== "CNY" || view.rate === null) narrator.fail(`a ${view.fee_type} payment should carry cash_fee in CNY and a rate`);
    narrator.ok(
      `gateway view: total_fee ${money(view.total_fee, merchant.feeType)} (${view.fee_type}); the payer paid cash_fee ${money(view.cash_fee, "CNY")} (${view.cash_fee_type}) at rate ${formatRate(view.rate)}`,
    );
  }
  if (merchant.subMchId !== undefined) {
    // The control API does not show openids, so this reads the in-process sandbox's store.
    const gatewayOrder = stack.sandbox.context.store.allOrders().find((o) => o.outTradeNo === orderId);
    if (gatewayOrder === undefined) return narrator.fail(`the sandbox has no order ${orderId}`);
    if (gatewayOrder.subOpenid !== buyerOpenid || gatewayOrder.openid !== undefined) {
      narrator.fail(`institutional orders carry the buyer as sub_openid only; got openid=${gatewayOrder.openid ?? "-"} sub_openid=${gatewayOrder.subOpenid ?? "-"}`);
    }
    narrator.ok(
      `gateway view: mch_id ${gatewayOrder.mchId} (service provider) for sub_mch_id ${gatewayOrder.subMchId ?? "-"}, sub_appid ${gatewayOrder.subAppId ?? "-"}, sub_openid ${gatewayOrder.subOpenid} (no openid)`,
    );
  }
}

/**
 * One purchase through the real HTTP API as the mini-program makes it, on its own sandbox + API (free ports,
 * a temporary data folder): login, products, order, pay, notify, paid, partial refund, refund notify, and the
 * order events (order.paid, refund.succeeded) reaching the stack's fulfilment receiver, verified.
 */
export async function runDemo(options: RunDemoOptions): Promise<DemoResult> {
  const { mode, output } = options;
  const started = performance.now();
  const ownDir = options.dataDir === undefined ? await mkdtemp(join(tmpdir(), "pay-demo-")) : undefined;
  const logs: string[] = [];
  /** What the fulfilment receiver printed, shown in the webhooks step. */
  const fulfilmentLines: string[] = [];
  const result: { orderId?: string; paid?: Money; refunded?: Money } = {};
  let failure: string | undefined;
  let stack: DevStack | undefined;
  output.write(`\n== Demo: ${mode} mode (${MODE_PROFILES[mode].title}) ==\n`);
  try {
    stack = await startDevStack({
      mode,
      dataDir: options.dataDir ?? ownDir ?? "",
      ports: { api: 0, sandbox: 0, gateway: 0, fulfilment: 0 },
      logDestination: { write: (line: string) => void logs.push(line) },
      fulfilmentOutput: (line) => void fulfilmentLines.push(line),
    });
    const { merchant } = stack;
    const gatewayNote = stack.v3 === undefined ? "mutual TLS for refunds" : `APIv3, ${stack.v3.keyMode} mode, keys in ${stack.v3.keysDir}`;
    output.write(`API ${stack.apiUrl}, sandbox ${stack.sandboxUrl} (gateway ${stack.gatewayUrl}, ${gatewayNote}), database ${stack.databaseUrl}\n`);
    output.write(
      `Merchant appid ${merchant.appId}, mch_id ${merchant.mchId}${merchant.subMchId === undefined ? "" : `, sub_appid ${merchant.subAppId ?? ""}, sub_mch_id ${merchant.subMchId}`}, ${merchant.feeType}, ${stack.v3 === undefined ? stack.config.merchant.signType : `APIv3 ${stack.v3.account}`}\n`,
    );
    await walk(stack, new Narrator(output, stack), output, options.waitTimeoutMs ?? 20_000, result, fulfilmentLines);
  } catch (error) {
    failure = error instanceof StepFailed ? error.message : `${error instanceof Error ? error.message : String(error)}`;
    if (!(error instanceof StepFailed)) output.write(`    ✗ ${failure}\n`);
    const problems = logs.filter((line) => /"level":(40|50|60)/.test(line)).slice(-LOG_LINES_SHOWN);
    if (problems.length > 0) output.write(`API warnings and errors:\n${problems.map((line) => `  ${formatLogLine(line)}`).join("\n")}\n`);
  } finally {
    await stack?.stop();
    if (ownDir !== undefined) await rm(ownDir, { recursive: true, force: true });
  }
  const elapsedMs = performance.now() - started;
  const ok = failure === undefined;
  if (ok && result.paid !== undefined && result.refunded !== undefined) {
    output.write(`\n✓ Demo passed (${mode}): paid ${formatMoney(result.paid)}, refunded ${formatMoney(result.refunded)} in ${(elapsedMs / 1000).toFixed(1)} s.\n`);
  } else {
    output.write(`\n✗ Demo failed (${mode}) at ${failure ?? "an unknown step"}.\n`);
  }
  return { mode, ok, exitCode: ok ? 0 : 1, orderId: result.orderId, paid: result.paid, refunded: result.refunded, failure, elapsedMs };
}
