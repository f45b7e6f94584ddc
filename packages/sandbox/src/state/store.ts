import { createHmac, randomBytes } from "node:crypto";
import type { DeliveryAttempt, LoginCode, SandboxOrder, SandboxRefund } from "./types.js";

const MAX_DELIVERY_LOG = 10_000;

function orderKey(mchId: string, subMchId: string | undefined, outTradeNo: string): string {
  return `${mchId}|${subMchId ?? ""}|${outTradeNo}`;
}

/** The gateway's memory: orders, refunds, login codes and the notify delivery log. One process, in memory. */
export class SandboxStore {
  private readonly orders = new Map<string, SandboxOrder>();
  private readonly byPrepayId = new Map<string, SandboxOrder>();
  private readonly byTransactionId = new Map<string, SandboxOrder>();
  private readonly refundsByNo = new Map<string, SandboxRefund>();
  private readonly refundsById = new Map<string, SandboxRefund>();
  private readonly codes = new Map<string, LoginCode>();
  private readonly log: DeliveryAttempt[] = [];
  private nextDeliveryId = 1;

  findOrder(mchId: string, subMchId: string | undefined, outTradeNo: string): SandboxOrder | undefined {
    return this.orders.get(orderKey(mchId, subMchId, outTradeNo));
  }

  findOrderByTransactionId(mchId: string, subMchId: string | undefined, transactionId: string): SandboxOrder | undefined {
    const order = this.byTransactionId.get(transactionId);
    return order !== undefined && order.mchId === mchId && order.subMchId === subMchId ? order : undefined;
  }

  findOrderByPrepayId(prepayId: string): SandboxOrder | undefined {
    return this.byPrepayId.get(prepayId);
  }

  allOrders(): SandboxOrder[] {
    return [...this.orders.values()];
  }

  addOrder(order: SandboxOrder): void {
    this.orders.set(orderKey(order.mchId, order.subMchId, order.outTradeNo), order);
    this.byPrepayId.set(order.prepayId, order);
  }

  /** Records a new prepay_id for an order re-entered after the old one expired. The old one stops working. */
  replacePrepayId(order: SandboxOrder, prepayId: string, expiresAt: number): void {
    this.byPrepayId.delete(order.prepayId);
    order.prepayId = prepayId;
    order.prepayExpiresAt = expiresAt;
    this.byPrepayId.set(prepayId, order);
  }

  markPaid(order: SandboxOrder, transactionId: string): void {
    order.transactionId = transactionId;
    this.byTransactionId.set(transactionId, order);
  }

  findRefund(mchId: string, subMchId: string | undefined, outRefundNo: string): SandboxRefund | undefined {
    return this.refundsByNo.get(orderKey(mchId, subMchId, outRefundNo));
  }

  findRefundById(refundId: string): SandboxRefund | undefined {
    return this.refundsById.get(refundId);
  }

  addRefund(order: SandboxOrder, refund: SandboxRefund): void {
    order.refunds.push(refund);
    this.refundsByNo.set(orderKey(refund.mchId, refund.subMchId, refund.outRefundNo), refund);
    this.refundsById.set(refund.refundId, refund);
  }

  constructor(private readonly openidSeed: string = randomBytes(32).toString("hex")) {}

  /** The openid of `user` under a Mini Program appid: stable for a given seed, different per appid. */
  openidFor(appId: string, user: string): string {
    return `o${createHmac("sha256", this.openidSeed).update(`${appId}|${user}`).digest("base64url").slice(0, 27)}`;
  }

  issueLoginCode(appId: string, openid: string, expiresAt: number): LoginCode {
    const code: LoginCode = { code: randomBytes(16).toString("base64url"), appId, openid, expiresAt, used: false };
    this.codes.set(code.code, code);
    return code;
  }

  findLoginCode(code: string): LoginCode | undefined {
    return this.codes.get(code);
  }

  recordDelivery(attempt: Omit<DeliveryAttempt, "id">): DeliveryAttempt {
    const entry = { ...attempt, id: this.nextDeliveryId++ };
    this.log.push(entry);
    if (this.log.length > MAX_DELIVERY_LOG) this.log.splice(0, this.log.length - MAX_DELIVERY_LOG);
    return entry;
  }

  deliveries(filter: { outTradeNo?: string | undefined; kind?: "pay" | "refund" | undefined } = {}): DeliveryAttempt[] {
    return this.log.filter((d) => (filter.outTradeNo === undefined || d.outTradeNo === filter.outTradeNo) && (filter.kind === undefined || d.kind === filter.kind));
  }
}
