import { randomBytes, randomUUID } from "node:crypto";
import { buildSignedV3Notify, signV3Answer } from "@pay/core/testing";
import type { SandboxContext } from "../context.js";
import type { NotifyJob, NotifyMessage } from "../notifier/notifier.js";
import type { SandboxOrder, SandboxRefund } from "../state/types.js";
import { refundNotifyJson, transactionJson, V3_REFUND_STATUS_OF } from "./views.js";

/** The probe signature the real gateway sends now and then: a prefix that breaks Base64, then random Base64. */
export function signTestSignature(): string {
  return `WECHATPAY/SIGNTEST/${randomBytes(192).toString("base64")}`;
}

function identityOf(sandbox: SandboxContext, order: SandboxOrder) {
  const identity = sandbox.v3.get(order.mchId);
  if (identity === undefined) throw new Error(`No v3 identity for merchant ${order.mchId} (order ${order.outTradeNo}).`);
  return identity;
}

/** One notify event: what every attempt, copy and probe of it carries unchanged. */
interface V3NotifyEvent {
  /** The notify id: a retried notify keeps it. */
  readonly id: string;
  /** When the event happened: the body's create_time. */
  readonly createdAt: number;
  readonly eventType: string;
  /** The plaintext resource as it was when the event happened. */
  readonly resource: object;
}

function newEvent(sandbox: SandboxContext, eventType: string, resource: object): V3NotifyEvent {
  return { id: randomUUID(), createdAt: sandbox.clock.now(), eventType, resource };
}

/**
 * Builds one delivery of an event: the resource encrypted afresh, the headers stamped with the sandbox's
 * current time and signed by the key the merchant's mode picks now (or the given probe signature).
 */
function message(sandbox: SandboxContext, order: SandboxOrder, event: V3NotifyEvent, signature?: string): NotifyMessage {
  const identity = identityOf(sandbox, order);
  const now = sandbox.clock.now();
  const signer = sandbox.v3.notifySigner(identity, now);
  // The body carries the event's create_time; the signature below covers it at the current time, so the
  // builder's own signature is skipped ("" placeholder, replaced).
  const built = buildSignedV3Notify({
    id: event.id,
    eventType: event.eventType,
    resource: event.resource,
    apiV3Key: identity.apiV3Key,
    signer,
    now: event.createdAt,
    signature: "",
  });
  const headers = signV3Answer(built.body, { signer, now, nonce: built.headers["Wechatpay-Nonce"], ...(signature === undefined ? {} : { signature }) });
  return {
    body: built.body,
    headers: { ...headers, "content-type": "application/json", "request-id": `${randomBytes(12).toString("hex").toUpperCase()}-0`, pragma: "no-cache" },
  };
}

/** The TRANSACTION.SUCCESS notify of a paid v3 order, with a signature probe first when the sandbox is asked to send one. */
export function v3PayNotifyJob(sandbox: SandboxContext, order: SandboxOrder): NotifyJob {
  const eventType = "TRANSACTION.SUCCESS";
  // The payment as it was when paid: a refund before a retry must not turn TRANSACTION.SUCCESS into trade_state REFUND.
  const event = newEvent(sandbox, eventType, transactionJson(sandbox, order, { forQuery: false }));
  const build = (signature?: string): NotifyMessage => message(sandbox, order, event, signature);
  return {
    protocol: "v3",
    kind: "pay",
    eventType,
    outTradeNo: order.outTradeNo,
    url: order.notifyUrl,
    message: () => build(),
    probe: sandbox.options.notify.signatureProbe ? () => build(signTestSignature()) : undefined,
  };
}

/** The REFUND.SUCCESS / REFUND.ABNORMAL / REFUND.CLOSED notify of a settled v3 refund. */
export function v3RefundNotifyJob(sandbox: SandboxContext, order: SandboxOrder, refund: SandboxRefund, url: string): NotifyJob {
  const eventType = `REFUND.${V3_REFUND_STATUS_OF[refund.status]}`;
  const event = newEvent(sandbox, eventType, refundNotifyJson(sandbox, order, refund));
  const build = (signature?: string): NotifyMessage => message(sandbox, order, event, signature);
  return {
    protocol: "v3",
    kind: "refund",
    eventType,
    outTradeNo: order.outTradeNo,
    outRefundNo: refund.outRefundNo,
    url,
    message: () => build(),
    probe: sandbox.options.notify.signatureProbe ? () => build(signTestSignature()) : undefined,
  };
}
