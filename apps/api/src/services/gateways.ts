import type { OrderRow } from "../db/schema.js";
import type { PaymentGateway } from "../gateway/port.js";
import { PROTOCOL_NAMES } from "../gateway/registry.js";
import type { ServiceContext } from "./context.js";
import { failed, succeeded, type Outcome } from "./outcomes.js";

/**
 * The gateway of the protocol an order was placed with. An order of a protocol this process has no
 * gateway for is refused as unavailable (503): nothing is asked, nothing changes, and a process that is
 * given that protocol's credentials handles it.
 */
export function gatewayOf(ctx: ServiceContext, order: Pick<OrderRow, "id" | "protocol">): Outcome<PaymentGateway> {
  const gateway = ctx.gateways.of(order.protocol);
  if (gateway !== undefined) return succeeded(gateway);
  return failed({
    kind: "protocol-unavailable",
    message: `Order ${order.id} was placed with WeChat Pay ${PROTOCOL_NAMES[order.protocol]}, which this server is not configured for.`,
  });
}
