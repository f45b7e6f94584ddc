import { randomBytes, randomUUID } from "node:crypto";
import { buildSignedV3Notify } from "@pay/core/testing";
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

/**
 * Builds one signed, encrypted delivery of `resource`, stamped with the sandbox's current time. `id` is the
 * notify's: every attempt, copy and probe of one event carries the same id, as a retried notify does.
 */
function message(sandbox: SandboxContext, order: SandboxOrder, id: string, eventType: string, resource: object, signature?: string): NotifyMessage {
  const identity = identityOf(sandbox, order);
  const now = sandbox.clock.now();
  const built = buildSignedV3Notify({
    id,
    eventType,
    resource,
    apiV3Key: identity.apiV3Key,
    signer: sandbox.v3.notifySigner(identity, now),
    now,
    ...(signature === undefined ? {} : { signature }),
  });
  return {
    body: built.body,
    headers: { ...built.headers, "content-type": "application/json", "request-id": `${randomBytes(12).toString("hex").toUpperCase()}-0`, pragma: "no-cache" },
  };
}

/** The TRANSACTION.SUCCESS notify of a paid v3 order, with a signature probe first when the sandbox is asked to send one. */
export function v3PayNotifyJob(sandbox: SandboxContext, order: SandboxOrder): NotifyJob {
  const eventType = "TRANSACTION.SUCCESS";
  const id = randomUUID();
  // The payment as it was when paid: a refund before a retry must not turn TRANSACTION.SUCCESS into trade_state REFUND.
  const resource = transactionJson(sandbox, order, { forQuery: false });
  const build = (signature?: string): NotifyMessage => message(sandbox, order, id, eventType, resource, signature);
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
  const id = randomUUID();
  const resource = refundNotifyJson(sandbox, order, refund);
  const build = (signature?: string): NotifyMessage => message(sandbox, order, id, eventType, resource, signature);
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
