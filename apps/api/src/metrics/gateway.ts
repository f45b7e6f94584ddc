import { performance } from "node:perf_hooks";
import type { GatewayCallError, GatewayResult, PaymentGateway } from "../gateway/port.js";
import type { ApiMetrics, GatewayCall } from "./registry.js";

/** A gateway failure as the latency histogram's outcome: `timeout`, a verified refusal's code, or the kind of failure. */
export function gatewayOutcome(error: GatewayCallError): string {
  if (error.kind === "business" && error.code !== undefined) return error.code;
  return error.kind;
}

/**
 * Wraps a gateway so each call to WeChat Pay is timed into pay_gateway_call_duration_seconds (by call and
 * outcome); everything else (notify parsing, paySign) passes straight through, untimed and unchanged.
 * `now` is a monotonic timer in milliseconds (performance.now by default).
 */
export function instrumentGateway(gateway: PaymentGateway, protocol: "v2" | "v3", metrics: ApiMetrics, now: () => number = () => performance.now()): PaymentGateway {
  async function timed<T>(call: GatewayCall, run: () => Promise<GatewayResult<T>>): Promise<GatewayResult<T>> {
    const started = now();
    let outcome = "exception";
    try {
      const result = await run();
      outcome = result.ok ? "ok" : gatewayOutcome(result.error);
      return result;
    } finally {
      metrics.gatewayCall(protocol, call, outcome, (now() - started) / 1000);
    }
  }
  return {
    placeOrder: (order) => timed("placeOrder", () => gateway.placeOrder(order)),
    paymentParams: (input) => gateway.paymentParams(input),
    queryOrder: (orderId) => timed("queryOrder", () => gateway.queryOrder(orderId)),
    closeOrder: (orderId) => timed("closeOrder", () => gateway.closeOrder(orderId)),
    refund: (input) => timed("refund", () => gateway.refund(input)),
    queryRefund: (refundId) => timed("queryRefund", () => gateway.queryRefund(refundId)),
    openBill: (date) => timed("openBill", () => gateway.openBill(date)),
    get notifyContentTypes() {
      return gateway.notifyContentTypes;
    },
    parsePayNotify: (body, headers) => gateway.parsePayNotify(body, headers),
    parseRefundNotify: (body, headers) => gateway.parseRefundNotify(body, headers),
    notifyReply: (answer) => gateway.notifyReply(answer),
  };
}
