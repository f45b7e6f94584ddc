import { createBillReader, type BillRow, type BillSummary, type ParseBillOptions } from "@pay/core";
import type { BillDownload, GatewayResult } from "../../src/gateway/port.js";

/**
 * Reads an opened bill the way reconciliation does (test support for the adapters' tests): the streamed body
 * through createBillReader, then `finish`. Throws when the bill is not a file, does not read, or fails finish.
 */
export async function readBill(opened: GatewayResult<BillDownload>, options: ParseBillOptions = {}): Promise<{ rows: BillRow[]; summary: BillSummary; chunks: number }> {
  if (!opened.ok) throw new Error(`openBill failed: ${opened.error.kind}: ${opened.error.message}`);
  if (opened.value.kind !== "file") throw new Error(`openBill answered ${opened.value.kind}`);
  const reader = createBillReader(options);
  const rows: BillRow[] = [];
  let chunks = 0;
  for await (const chunk of opened.value.body) {
    chunks += 1;
    rows.push(...reader.push(chunk));
  }
  const summary = reader.end();
  const finished = opened.value.finish();
  if (!finished.ok) throw new Error(`finish failed: ${finished.error.code ?? finished.error.kind}: ${finished.error.message}`);
  return { rows, summary, chunks };
}
