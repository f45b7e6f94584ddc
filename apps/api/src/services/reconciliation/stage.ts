import { BillFailure, createBillReader, type BillRow, type BillSummary, type Currency } from "@pay/core";
import type { ReconciliationErrorCode } from "@pay/core/contract";
import type { Kysely } from "kysely";
import { INSERT_BATCH_ROWS, insertBillRows, type NewBillRow, type OurMerchant, type RunLease } from "../../db/reconciliation.js";
import type { Database } from "../../db/schema.js";
import type { BillDownload } from "../../gateway/port.js";
import { billTimeOf } from "./day.js";

/** Why a run stopped, as the contract names it. */
export class RunFailure extends Error {
  override readonly name = "RunFailure";
  constructor(
    readonly code: ReconciliationErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Running sums of a bill's lines, and its summary row. */
export interface BillSums {
  /** The bill's currency (its lines'); the configured one when it has no line. */
  readonly currency: Currency;
  readonly lineCount: number;
  readonly paymentCount: number;
  readonly paymentAmount: number;
  readonly refundCount: number;
  readonly refundAmount: number;
  /** Sums of every line's 应结订单金额 and 退款金额, against the summary's totals. */
  readonly settlementAmount: number;
  readonly refundFeeAmount: number;
  /** 手续费 at scale 5. */
  readonly fee: number;
  readonly summary: BillSummary;
}

export interface StageOptions {
  readonly db: Kysely<Database>;
  readonly lease: RunLease;
  readonly merchant: OurMerchant;
  /** The day's instants [start, end). */
  readonly day: { readonly start: number; readonly end: number };
  /** The currency of lines whose 货币种类 is empty. */
  readonly currency: Currency;
}

interface MutableSums {
  currency: Currency | undefined;
  lineCount: number;
  paymentCount: number;
  paymentAmount: number;
  refundCount: number;
  refundAmount: number;
  settlementAmount: number;
  refundFeeAmount: number;
  fee: number;
}

/** Direct mode: the bill writes an empty 特约商户号, or "0". */
function sameSubMerchant(cell: string | undefined, ours: string | undefined): boolean {
  if (ours === undefined) return cell === undefined || cell === "0";
  return cell === ours;
}

/** A bill line as staged: its kind, our ids, and the amount that compares with ours. */
function stagedRow(row: BillRow, options: StageOptions): NewBillRow {
  const { lease, merchant, day } = options;
  if (row.mchId !== merchant.mchId || !sameSubMerchant(row.subMchId, merchant.subMchId)) {
    throw new RunFailure(
      "BILL_WRONG_MERCHANT",
      `Line ${row.line}: the line is of merchant ${row.mchId ?? "(none)"}/${row.subMchId ?? "(none)"}, not ours (${merchant.mchId}/${merchant.subMchId ?? "(none)"}).`,
    );
  }
  const at = billTimeOf(row.tradeTime);
  if (at === undefined) throw new RunFailure("BILL_MALFORMED", `Line ${row.line}: 交易时间 "${row.tradeTime ?? ""}" is not a time (yyyy-MM-dd HH:mm:ss).`);
  if (at < day.start || at >= day.end) throw new RunFailure("BILL_WRONG_DAY", `Line ${row.line}: 交易时间 ${row.tradeTime ?? ""} is not in ${lease.date} (Beijing).`);
  const refundLine = row.tradeState === "REFUND";
  const kind = row.tradeState === "SUCCESS" ? "payment" : refundLine && (row.refundStatus === undefined || row.refundStatus === "SUCCESS") ? "refund" : "other";
  const amount = refundLine ? (row.requestedRefundFee ?? row.refundFee) : (row.totalFee ?? row.settlementTotalFee);
  return {
    bill_date: lease.date,
    attempt: lease.attempt,
    line: row.line,
    kind,
    order_id: row.outTradeNo ?? "",
    refund_id: row.outRefundNo ?? null,
    transaction_id: row.transactionId ?? null,
    gateway_refund_id: row.refundId ?? null,
    amount: amount?.amount ?? 0,
    currency: row.currency,
    fee: row.serviceFee?.amount ?? null,
    state: refundLine ? `REFUND/${row.refundStatus ?? ""}` : (row.tradeState ?? ""),
  };
}

function add(sums: MutableSums, row: BillRow, staged: NewBillRow): void {
  sums.currency ??= row.currency;
  sums.lineCount += 1;
  sums.settlementAmount += row.settlementTotalFee?.amount ?? 0;
  sums.refundFeeAmount += row.refundFee?.amount ?? 0;
  sums.fee += row.serviceFee?.amount ?? 0;
  if (staged.kind === "payment") {
    sums.paymentCount += 1;
    sums.paymentAmount += staged.amount;
  } else if (staged.kind === "refund") {
    sums.refundCount += 1;
    sums.refundAmount += staged.amount;
  }
}

/**
 * Reads a bill file as it arrives into the staging table (batches of INSERT_BATCH_ROWS lines), checking every
 * line's merchant and day, and keeps running sums; then ends the reader (a truncated bill fails) and asks the
 * download to finish (v3: the SHA1). Only a few batches are ever in memory. Nothing but staging rows is written:
 * a failure here leaves orders and refunds untouched. Throws RunFailure.
 */
export async function stageBill(download: Extract<BillDownload, { kind: "file" }>, options: StageOptions): Promise<BillSums> {
  const reader = createBillReader({ currency: options.currency });
  const sums: MutableSums = {
    currency: undefined,
    lineCount: 0,
    paymentCount: 0,
    paymentAmount: 0,
    refundCount: 0,
    refundAmount: 0,
    settlementAmount: 0,
    refundFeeAmount: 0,
    fee: 0,
  };
  let batch: NewBillRow[] = [];
  const take = async (rows: readonly BillRow[]): Promise<void> => {
    for (const row of rows) {
      const staged = stagedRow(row, options);
      add(sums, row, staged);
      batch.push(staged);
      if (batch.length >= INSERT_BATCH_ROWS) {
        const full = batch;
        batch = [];
        await insertBillRows(options.db, full);
      }
    }
  };
  let summary: BillSummary;
  try {
    try {
      for await (const chunk of download.body) await take(reader.push(chunk));
    } catch (error) {
      if (error instanceof BillFailure || error instanceof RunFailure) throw error;
      throw new RunFailure("BILL_UNAVAILABLE", `The bill's download broke off: ${error instanceof Error ? error.message : String(error)}`);
    }
    summary = reader.end();
  } catch (error) {
    if (error instanceof BillFailure) throw new RunFailure("BILL_MALFORMED", error.message);
    throw error;
  }
  await insertBillRows(options.db, batch);
  const finished = download.finish();
  if (!finished.ok) {
    const code = finished.error.code === "HASH_MISMATCH" ? "BILL_HASH_MISMATCH" : "BILL_UNAVAILABLE";
    throw new RunFailure(code, finished.error.message);
  }
  return { ...sums, currency: sums.currency ?? options.currency, summary };
}
