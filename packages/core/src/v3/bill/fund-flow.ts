import { readTickedTable } from "../../bill/parse-bill.js";
import type { Currency } from "../../money/currency.js";
import { parseAmount, type Money } from "../../money/money.js";
import { err, ok, type Result } from "../../result.js";
import { readV3BillFile, type ReadV3BillFileOptions, type V3BillErrorCode } from "./bill-file.js";

/** Text columns of a fund-flow bill row, by header. */
export const V3_FUND_FLOW_TEXT_COLUMNS = {
  记账时间: "accountingTime",
  微信支付业务单号: "businessNo",
  资金流水单号: "fundFlowNo",
  业务名称: "businessName",
  业务类型: "businessType",
  收支类型: "flowType",
  资金变更提交申请人: "applicant",
  备注: "remark",
  业务凭证号: "voucherNo",
} as const;

/** Yuan columns of a fund-flow bill row (headers compared with ASCII or full-width parentheses). */
export const V3_FUND_FLOW_AMOUNT_COLUMNS = { "收支金额(元)": "amount", "账户结余(元)": "balance" } as const;

/** Summary columns: counts and yuan totals. */
export const V3_FUND_FLOW_SUMMARY_COLUMNS = {
  counts: { 资金流水总笔数: "flowCount", 收入笔数: "incomeCount", 支出笔数: "expenseCount" },
  amounts: { 收入金额: "income", 支出金额: "expense" },
} as const;

type TextKey = (typeof V3_FUND_FLOW_TEXT_COLUMNS)[keyof typeof V3_FUND_FLOW_TEXT_COLUMNS];
type AmountKey = (typeof V3_FUND_FLOW_AMOUNT_COLUMNS)[keyof typeof V3_FUND_FLOW_AMOUNT_COLUMNS];
type CountKey = (typeof V3_FUND_FLOW_SUMMARY_COLUMNS.counts)[keyof typeof V3_FUND_FLOW_SUMMARY_COLUMNS.counts];
type TotalKey = (typeof V3_FUND_FLOW_SUMMARY_COLUMNS.amounts)[keyof typeof V3_FUND_FLOW_SUMMARY_COLUMNS.amounts];

/** One fund movement. Empty cells are absent; unknown columns are kept in `extra` by header. */
export type V3FundFlowRow = { readonly [K in TextKey]?: string } & { readonly [K in AmountKey]?: Money } & {
  readonly line: number;
  readonly extra: Readonly<Record<string, string>>;
};

export type V3FundFlowSummary = { readonly [K in CountKey]?: number } & { readonly [K in TotalKey]?: Money } & { readonly extra: Readonly<Record<string, string>> };

export interface V3FundFlowBill {
  readonly columns: readonly string[];
  readonly rows: readonly V3FundFlowRow[];
  readonly summary: V3FundFlowSummary;
}

const own = (table: object, key: string): boolean => Object.prototype.hasOwnProperty.call(table, key);
const ascii = (header: string): string => header.replace(/（/g, "(").replace(/）/g, ")");

class Refusal extends Error {}

function money(cell: string, currency: Currency, line: number, column: string): Money {
  const parsed = parseAmount(cell, currency);
  if (!parsed.ok) throw new Refusal(`Line ${line}, column ${column}: ${parsed.error.message}`);
  return parsed.value;
}

/**
 * Reads a downloaded fund-flow bill: gunzip (tar_type=GZIP), SHA1 check, then the backtick CSV (read
 * by src/bill's reader) into rows whose yuan amounts are integer minor units (CNY unless `currency`).
 * Malformed input is a coded refusal (MALFORMED_BILL naming the line); never throws.
 */
export function parseV3FundFlowBill(bytes: Uint8Array, options: ReadV3BillFileOptions & { readonly currency?: Currency }): Result<V3FundFlowBill, V3BillErrorCode> {
  const file = readV3BillFile(bytes, options);
  if (!file.ok) return file;
  const table = readTickedTable(file.value, { first: "记账时间", summaryFirst: "资金流水总笔数" });
  if (!table.ok) return table;
  const currency = options.currency ?? "CNY";
  try {
    const rows = table.value.rows.map(({ cells, line }): V3FundFlowRow => {
      const row: Record<string, unknown> = { line };
      const extra = Object.create(null) as Record<string, string>;
      table.value.columns.forEach((column, i) => {
        const cell = cells[i] ?? "";
        const name = ascii(column);
        if (own(V3_FUND_FLOW_TEXT_COLUMNS, name)) {
          if (cell !== "") row[V3_FUND_FLOW_TEXT_COLUMNS[name as keyof typeof V3_FUND_FLOW_TEXT_COLUMNS]] = cell;
        } else if (own(V3_FUND_FLOW_AMOUNT_COLUMNS, name)) {
          if (cell !== "") row[V3_FUND_FLOW_AMOUNT_COLUMNS[name as keyof typeof V3_FUND_FLOW_AMOUNT_COLUMNS]] = money(cell, currency, line, column);
        } else {
          extra[column] = cell;
        }
      });
      row.extra = extra;
      return row as V3FundFlowRow;
    });
    const { cells, line } = table.value.summary;
    const summary: Record<string, unknown> = {};
    const extra = Object.create(null) as Record<string, string>;
    table.value.summaryColumns.forEach((column, i) => {
      const cell = cells[i] ?? "";
      const { counts, amounts } = V3_FUND_FLOW_SUMMARY_COLUMNS;
      if (own(counts, column)) {
        if (!/^(?:0|[1-9][0-9]{0,15})$/.test(cell)) throw new Refusal(`Line ${line}, column ${column}: "${cell}" is not a whole number.`);
        summary[counts[column as keyof typeof counts]] = Number(cell);
      } else if (own(amounts, column)) {
        if (cell !== "") summary[amounts[column as keyof typeof amounts]] = money(cell, currency, line, column);
      } else {
        extra[column] = cell;
      }
    });
    summary.extra = extra;
    return ok({ columns: table.value.columns, rows, summary: summary as V3FundFlowSummary });
  } catch (cause) {
    if (cause instanceof Refusal) return err("MALFORMED_BILL", cause.message);
    throw cause;
  }
}
