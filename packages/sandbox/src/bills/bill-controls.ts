import type { Currency } from "@pay/core";
import type { BillFaultKind, BillFaultRule, BillFaultView, Discrepancy } from "../control/schemas.js";
import type { SandboxOrder, SandboxRefund } from "../state/types.js";

/** What a bill shows for one order's payment instead of the gateway's state. */
export interface PaymentLineOverride {
  readonly omitted: boolean;
  readonly totalFee?: number | undefined;
  readonly feeType?: Currency | undefined;
  readonly transactionId?: string | undefined;
  /** A second line for the order with this trade state. */
  readonly unexpectedState?: string | undefined;
}

/** What a bill shows for one refund instead of the gateway's state. */
export interface RefundLineOverride {
  readonly omitted: boolean;
  readonly refundFee?: number | undefined;
}

/** Figures a bill's summary row says instead of the sums of its lines (minor units). */
export interface SummaryOverride {
  readonly tradeCount?: number | undefined;
  readonly settlementTotalFee?: number | undefined;
  readonly refundFee?: number | undefined;
}

/** The overrides one bill is built with: by order and refund, and the summary of the merchant's day. */
export interface BillOverrides {
  payment(order: SandboxOrder): PaymentLineOverride;
  refund(refund: SandboxRefund): RefundLineOverride;
  readonly summary: SummaryOverride | undefined;
}

/** A bill built with no override: the gateway's state as it is. */
export const NO_OVERRIDES: BillOverrides = { payment: () => ({ omitted: false }), refund: () => ({ omitted: false }), summary: undefined };

function merchantKey(mchId: string, subMchId: string | undefined): string {
  return `${mchId}|${subMchId ?? ""}`;
}

/** The key a discrepancy replaces an earlier one of: its kind and its target. */
function discrepancyKey(d: Discrepancy): string {
  const merchant = merchantKey(d.mch_id, d.sub_mch_id);
  switch (d.kind) {
    case "refund_amount":
    case "refund_omitted":
      return `${d.kind}|${merchant}|${d.out_refund_no}`;
    case "summary":
      return `${d.kind}|${merchant}|${d.bill_date}`;
    default:
      return `${d.kind}|${merchant}|${d.out_trade_no}`;
  }
}

interface QueuedBillFault {
  readonly rule: BillFaultRule;
  remaining: number;
}

/** The protocol of the download a fault is looked up for: v2 downloads never take a hash_mismatch (v2 has no hash). */
export type BillDownloadProtocol = "v2" | "v3";

/**
 * The reconciliation controls' state: the bill overrides (discrepancies) in force and the bill-file
 * faults queued. In memory, beside the store; cleared by the control API's DELETE calls.
 */
export class BillControls {
  private readonly discrepancies = new Map<string, Discrepancy>();
  private readonly faults: QueuedBillFault[] = [];

  /** Adds a discrepancy, replacing one of the same kind and target. */
  addDiscrepancy(discrepancy: Discrepancy): void {
    const key = discrepancyKey(discrepancy);
    this.discrepancies.delete(key);
    this.discrepancies.set(key, discrepancy);
  }

  listDiscrepancies(): Discrepancy[] {
    return [...this.discrepancies.values()];
  }

  clearDiscrepancies(): void {
    this.discrepancies.clear();
  }

  /** The overrides of the bill of `billDate` (yyyy-MM-dd) for merchant `mchId` (and `subMchId`, when the bill is one sub-merchant's). */
  overridesFor(mchId: string, subMchId: string | undefined, billDate: string): BillOverrides {
    if (this.discrepancies.size === 0) return NO_OVERRIDES;
    const find = <K extends Discrepancy["kind"]>(kind: K, owner: { mchId: string; subMchId: string | undefined }, target: string): Extract<Discrepancy, { kind: K }> | undefined =>
      this.discrepancies.get(`${kind}|${merchantKey(owner.mchId, owner.subMchId)}|${target}`) as Extract<Discrepancy, { kind: K }> | undefined;
    const summary = find("summary", { mchId, subMchId }, billDate);
    return {
      payment: (order) => ({
        omitted: find("payment_omitted", order, order.outTradeNo) !== undefined,
        totalFee: find("payment_amount", order, order.outTradeNo)?.total_fee,
        feeType: find("payment_currency", order, order.outTradeNo)?.fee_type,
        transactionId: find("payment_transaction", order, order.outTradeNo)?.transaction_id,
        unexpectedState: find("unexpected_row", order, order.outTradeNo)?.trade_state,
      }),
      refund: (refund) => ({
        omitted: find("refund_omitted", refund, refund.outRefundNo) !== undefined,
        refundFee: find("refund_amount", refund, refund.outRefundNo)?.refund_fee,
      }),
      summary: summary === undefined ? undefined : { tradeCount: summary.trade_count, settlementTotalFee: summary.settlement_total_fee, refundFee: summary.refund_fee },
    };
  }

  /** Queues a bill-file fault. */
  addFault(rule: BillFaultRule): BillFaultView {
    const queued: QueuedBillFault = { rule, remaining: rule.times };
    this.faults.push(queued);
    return viewOf(queued);
  }

  listFaults(): BillFaultView[] {
    return this.faults.map(viewOf);
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /**
   * The oldest fault queued for this download (a v2 download skips hash_mismatch ones), and `use` to count
   * it once the download serves a file (a day without a bill leaves it queued).
   */
  faultFor(protocol: BillDownloadProtocol, mchId: string, subMchId: string | undefined, billDate: string): { readonly kind: BillFaultKind; use(): void } | undefined {
    const queued = this.faults.find(
      ({ rule }) => rule.mch_id === mchId && rule.sub_mch_id === subMchId && rule.bill_date === billDate && (protocol === "v3" || rule.fault !== "hash_mismatch"),
    );
    if (queued === undefined) return undefined;
    return {
      kind: queued.rule.fault,
      use: () => {
        queued.remaining -= 1;
        const index = this.faults.indexOf(queued);
        if (queued.remaining <= 0 && index >= 0) this.faults.splice(index, 1);
      },
    };
  }
}

function viewOf(queued: QueuedBillFault): BillFaultView {
  const { rule } = queued;
  return {
    mch_id: rule.mch_id,
    ...(rule.sub_mch_id === undefined ? {} : { sub_mch_id: rule.sub_mch_id }),
    bill_date: rule.bill_date,
    fault: rule.fault,
    times: rule.times,
    remaining: queued.remaining,
  };
}
