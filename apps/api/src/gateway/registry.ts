import type { GatewayCallError, PaymentGateway } from "./port.js";

/** The WeChat Pay API versions, as orders record them. */
export const PROTOCOLS = ["v2", "v3"] as const;

export type Protocol = (typeof PROTOCOLS)[number];

/** What each protocol is called in messages. */
export const PROTOCOL_NAMES: Readonly<Record<Protocol, string>> = { v2: "APIv2", v3: "APIv3" };

/**
 * The gateways of a process, by protocol: new orders go through one, and everything later about an order
 * (payment params, query, close, refund, the sweep, its notifies) through the one it was placed with, so a
 * process holding both credentials places v3 orders while its v2 orders keep settling through v2.
 */
export interface GatewayRegistry {
  /** The protocol new orders are placed with. */
  readonly protocolForNewOrders: Protocol;
  /** The gateway of that protocol. */
  readonly forNewOrders: PaymentGateway;
  /** The protocols a gateway is configured for, in PROTOCOLS order. */
  readonly configured: readonly Protocol[];
  /** The gateway of a protocol; undefined when this process has none for it. */
  of(protocol: Protocol): PaymentGateway | undefined;
  /**
   * The `shed` error a call through the protocol's gateway would get now (its breaker is open, or every call
   * slot is taken): services ask before writing what a refused call would leave behind (gateway/guard.ts).
   */
  refusal(protocol: Protocol): GatewayCallError | undefined;
}

export interface GatewayRegistryOptions {
  readonly v2?: PaymentGateway | undefined;
  readonly v3?: PaymentGateway | undefined;
  /** Default v2. */
  readonly protocolForNewOrders?: Protocol | undefined;
  /** The guard's refusal (GatewayGuard.refusal); default: nothing is refused up front. */
  readonly refusal?: ((protocol: Protocol) => GatewayCallError | undefined) | undefined;
}

/** Builds the registry; a new-orders protocol without its gateway is a wiring mistake and throws. */
export function createGatewayRegistry(options: GatewayRegistryOptions): GatewayRegistry {
  const protocolForNewOrders = options.protocolForNewOrders ?? "v2";
  const byProtocol: Readonly<Record<Protocol, PaymentGateway | undefined>> = { v2: options.v2, v3: options.v3 };
  const forNewOrders = byProtocol[protocolForNewOrders];
  if (forNewOrders === undefined) throw new TypeError(`New orders use ${PROTOCOL_NAMES[protocolForNewOrders]}, but no ${protocolForNewOrders} gateway was given.`);
  return {
    protocolForNewOrders,
    forNewOrders,
    configured: PROTOCOLS.filter((protocol) => byProtocol[protocol] !== undefined),
    of: (protocol) => byProtocol[protocol],
    refusal: options.refusal ?? (() => undefined),
  };
}
