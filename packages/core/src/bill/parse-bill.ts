import { isCurrency, type Currency } from "../money/currency.js";
import { parseAmount, type Money } from "../money/money.js";
import { err, ok, type Result, type ResultError } from "../result.js";
import { createBillReader } from "./bill-reader.js";

/**
 * Text columns of a downloadbill CSV (§5.5), by their Chinese header. Which columns appear depends
 * on bill_type; every known one is optional in a row.
 */
export const BILL_TEXT_COLUMNS = {
  交易时间: "tradeTime",
  公众账号ID: "appid",
  商户号: "mchId",
  特约商户号: "subMchId",
  设备号: "deviceInfo",
  微信订单号: "transactionId",
  商户订单号: "outTradeNo",
  用户标识: "openid",
  交易类型: "tradeType",
  交易状态: "tradeState",
  付款银行: "bankType",
  微信退款单号: "refundId",
  商户退款单号: "outRefundNo",
  退款类型: "refundType",
  退款状态: "refundStatus",
  商品名称: "body",
  商户数据包: "attach",
  费率: "feeRate",
  费率备注: "feeRateNote",
} as const;

/** Amount columns of a data row: yuan (major units) in the file, minor units once parsed. */
export const BILL_AMOUNT_COLUMNS = {
  应结订单金额: "settlementTotalFee",
  代金券金额: "couponFee",
  退款金额: "refundFee",
  充值券退款金额: "rechargeCouponRefundFee",
  订单金额: "totalFee",
  申请退款金额: "requestedRefundFee",
} as const;

/** The currency column; an empty or absent one means CNY (or the caller's default). */
export const BILL_CURRENCY_COLUMN = "货币种类";

/** The service-fee column: to five decimal places, finer than a fen, so it gets its own scale. */
export const BILL_FEE_COLUMN = "手续费";

/** Amount columns of the summary row. */
export const BILL_SUMMARY_AMOUNT_COLUMNS = {
  应结订单总金额: "settlementTotalFee",
  退款总金额: "refundFee",
  充值券退款总金额: "rechargeCouponRefundFee",
  订单总金额: "totalFee",
  申请退款总金额: "requestedRefundFee",
} as const;

export const BILL_SUMMARY_COUNT_COLUMN = "总交易单数";
export const BILL_SUMMARY_FEE_COLUMN = "手续费总金额";

/** Decimal places of a bill fee: `amount` counts 10^-5 of the major unit (0.00006 yuan -> 6). */
export const BILL_FEE_SCALE = 5;

/**
 * A service fee as the bill states it. WeChat computes fees to 5 decimals (0.6% of 0.01 yuan is
 * 0.00006), which no minor-unit integer can hold, so the amount is an integer at BILL_FEE_SCALE.
 */
export interface BillFee {
  readonly amount: number;
  readonly scale: typeof BILL_FEE_SCALE;
  readonly currency: Currency;
}

type TextColumnKey = (typeof BILL_TEXT_COLUMNS)[keyof typeof BILL_TEXT_COLUMNS];
type AmountColumnKey = (typeof BILL_AMOUNT_COLUMNS)[keyof typeof BILL_AMOUNT_COLUMNS];
type SummaryAmountKey = (typeof BILL_SUMMARY_AMOUNT_COLUMNS)[keyof typeof BILL_SUMMARY_AMOUNT_COLUMNS];

/** One trade or refund line. Empty cells are absent; unknown columns are kept in `extra` by header. */
export type BillRow = { readonly [K in TextColumnKey]?: string } & { readonly [K in AmountColumnKey]?: Money } & {
  readonly currency: Currency;
  readonly serviceFee?: BillFee;
  /** 1-based line number in the file, for reconciliation reports. */
  readonly line: number;
  readonly extra: Readonly<Record<string, string>>;
};

/** The totals line at the end of the bill. */
export type BillSummary = { readonly [K in SummaryAmountKey]?: Money } & {
  readonly tradeCount: number;
  readonly currency: Currency;
  readonly serviceFee?: BillFee;
  readonly extra: Readonly<Record<string, string>>;
};

export interface Bill {
  /** The data header's column names, in file order. */
  readonly columns: readonly string[];
  readonly rows: readonly BillRow[];
  readonly summary: BillSummary;
}

export const BILL_ERROR_CODES = ["MALFORMED_BILL", "MIXED_CURRENCIES"] as const;
export type BillErrorCode = (typeof BILL_ERROR_CODES)[number];

/** Why a bill could not be read, with the 1-based line at fault when there is one. */
export interface BillError extends ResultError<BillErrorCode> {
  readonly line?: number;
}

export type ParseBillResult = { readonly ok: true; readonly value: Bill } | { readonly ok: false; readonly error: BillError };

export interface ParseBillOptions {
  /** The currency of rows whose 货币种类 is empty or absent; default CNY. */
  readonly currency?: Currency;
}

/**
 * Why a bill could not be read. parseBill turns it into its result; the streaming reader
 * (createBillReader) throws it, since a stream's consumer is already unwinding on failure.
 */
export class BillFailure extends Error {
  constructor(
    readonly code: BillErrorCode,
    message: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = "BillFailure";
  }
}

const FEE_DECIMAL = /^(-?)([0-9]{1,16})(?:\.([0-9]{1,16}))?$/;

function parseFee(text: string, currency: Currency, line: number, column: string): BillFee {
  const match = FEE_DECIMAL.exec(text);
  if (match === null) throw new BillFailure("MALFORMED_BILL", `Line ${line}, column ${column}: "${text}" is not a decimal amount.`, line);
  const [, sign = "", whole = "", fraction = ""] = match;
  if (fraction.replace(/0+$/, "").length > BILL_FEE_SCALE) {
    throw new BillFailure("MALFORMED_BILL", `Line ${line}, column ${column}: "${text}" has more than ${BILL_FEE_SCALE} decimal places.`, line);
  }
  const units = Number(`${whole}${fraction.padEnd(BILL_FEE_SCALE, "0").slice(0, BILL_FEE_SCALE)}`);
  if (!Number.isSafeInteger(units)) throw new BillFailure("MALFORMED_BILL", `Line ${line}, column ${column}: "${text}" is too large.`, line);
  return { amount: sign === "-" && units !== 0 ? -units : units, scale: BILL_FEE_SCALE, currency };
}

function parseMoney(text: string, currency: Currency, line: number, column: string): Money {
  const parsed = parseAmount(text, currency);
  if (!parsed.ok) throw new BillFailure("MALFORMED_BILL", `Line ${line}, column ${column}: ${parsed.error.message}`, line);
  return parsed.value;
}

/** Splits a backtick-prefixed line: "`a,`b,`c" -> ["a", "b", "c"]. Every field must carry the backtick. */
export function splitTicked(text: string, line: number): string[] {
  if (!text.startsWith("`")) throw new BillFailure("MALFORMED_BILL", `Line ${line}: fields must start with a backtick.`, line);
  return text.slice(1).split(",`");
}

export function splitHeader(text: string, line: number): string[] {
  const names = text.split(",").map((name) => name.trim());
  const seen = new Set<string>();
  for (const name of names) {
    if (name === "") throw new BillFailure("MALFORMED_BILL", `Line ${line}: a column name is empty.`, line);
    if (seen.has(name)) throw new BillFailure("MALFORMED_BILL", `Line ${line}: column ${name} appears twice.`, line);
    seen.add(name);
  }
  return names;
}

function own<T extends object>(table: T, key: string): key is Extract<keyof T, string> {
  return Object.prototype.hasOwnProperty.call(table, key);
}

function rowCurrency(cell: string | undefined, fallback: Currency, line: number): Currency {
  if (cell === undefined || cell === "") return fallback;
  if (!isCurrency(cell)) throw new BillFailure("MALFORMED_BILL", `Line ${line}, column ${BILL_CURRENCY_COLUMN}: unknown currency "${cell}".`, line);
  return cell;
}

/** What one column of a data header is, worked out once per header instead of once per cell. */
type ColumnRole =
  | { readonly kind: "text"; readonly key: TextColumnKey }
  | { readonly kind: "amount"; readonly key: AmountColumnKey; readonly column: string }
  | { readonly kind: "fee"; readonly column: string }
  | { readonly kind: "currency" }
  | { readonly kind: "extra"; readonly column: string };

/** A data header's columns with their roles: a row is read against it in one pass. */
export interface ColumnPlan {
  readonly roles: readonly ColumnRole[];
  /** Where 货币种类 is, or -1. */
  readonly currencyAt: number;
}

export function planColumns(columns: readonly string[]): ColumnPlan {
  const roles = columns.map((column): ColumnRole => {
    if (column === BILL_CURRENCY_COLUMN) return { kind: "currency" };
    if (own(BILL_TEXT_COLUMNS, column)) return { kind: "text", key: BILL_TEXT_COLUMNS[column] };
    if (own(BILL_AMOUNT_COLUMNS, column)) return { kind: "amount", key: BILL_AMOUNT_COLUMNS[column], column };
    if (column === BILL_FEE_COLUMN) return { kind: "fee", column };
    return { kind: "extra", column };
  });
  return { roles, currencyAt: columns.indexOf(BILL_CURRENCY_COLUMN) };
}

export function parseRow(plan: ColumnPlan, cells: readonly string[], line: number, fallback: Currency): BillRow {
  const { roles } = plan;
  if (cells.length !== roles.length) {
    throw new BillFailure("MALFORMED_BILL", `Line ${line}: expected ${roles.length} fields, found ${cells.length}.`, line);
  }
  const currency = rowCurrency(plan.currencyAt < 0 ? undefined : cells[plan.currencyAt], fallback, line);
  const row: Record<string, unknown> = { currency, line };
  const extra = Object.create(null) as Record<string, string>;
  for (let i = 0; i < roles.length; i++) {
    const role = roles[i] as ColumnRole;
    if (role.kind === "currency") continue;
    const cell = (cells[i] ?? "").trim();
    switch (role.kind) {
      case "text":
        if (cell !== "") row[role.key] = cell;
        break;
      case "amount":
        if (cell !== "") row[role.key] = parseMoney(cell, currency, line, role.column);
        break;
      case "fee":
        if (cell !== "") row.serviceFee = parseFee(cell, currency, line, role.column);
        break;
      case "extra":
        extra[role.column] = cell;
        break;
    }
  }
  row.extra = extra;
  return row as BillRow;
}

export function parseSummary(columns: readonly string[], cells: readonly string[], line: number, currency: Currency): BillSummary {
  if (cells.length !== columns.length) {
    throw new BillFailure("MALFORMED_BILL", `Line ${line}: expected ${columns.length} summary fields, found ${cells.length}.`, line);
  }
  const summary: Record<string, unknown> = { currency };
  const extra = Object.create(null) as Record<string, string>;
  columns.forEach((column, i) => {
    const cell = (cells[i] ?? "").trim();
    if (column === BILL_SUMMARY_COUNT_COLUMN) {
      if (!/^(?:0|[1-9][0-9]{0,15})$/.test(cell) || !Number.isSafeInteger(Number(cell))) {
        throw new BillFailure("MALFORMED_BILL", `Line ${line}, column ${column}: "${cell}" is not a whole number.`, line);
      }
      summary.tradeCount = Number(cell);
    } else if (own(BILL_SUMMARY_AMOUNT_COLUMNS, column)) {
      if (cell !== "") summary[BILL_SUMMARY_AMOUNT_COLUMNS[column]] = parseMoney(cell, currency, line, column);
    } else if (column === BILL_SUMMARY_FEE_COLUMN) {
      if (cell !== "") summary.serviceFee = parseFee(cell, currency, line, column);
    } else {
      extra[column] = cell;
    }
  });
  if (summary.tradeCount === undefined) {
    throw new BillFailure("MALFORMED_BILL", `Line ${line - 1}: the summary has no ${BILL_SUMMARY_COUNT_COLUMN} column.`, line - 1);
  }
  summary.extra = extra;
  return summary as BillSummary;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

interface TickedLine {
  readonly content: string;
  readonly line: number;
}

/** The sections of a backtick bill: the data header's columns, the data lines, the summary header and row. */
interface TickedSections {
  readonly columns: readonly string[];
  readonly dataLines: readonly TickedLine[];
  readonly summaryHeader: TickedLine;
  readonly summaryRow: TickedLine;
}

/** Splits a bill into its sections; `first` names the data header's first column, `summaryFirst` the summary header's. */
function tickedSections(text: string, first: string, summaryFirst: string): TickedSections {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // Keep file line numbers: blank lines are skipped but still counted.
  const lines = body
    .split(/\r?\n/)
    .map((content, i) => ({ content, line: i + 1 }))
    .filter((l) => l.content.trim() !== "");
  const header = lines[0];
  if (header === undefined) throw new BillFailure("MALFORMED_BILL", "The bill is empty.");
  const columns = splitHeader(header.content, header.line);
  if (header.content.startsWith("`") || !columns.includes(first)) {
    throw new BillFailure("MALFORMED_BILL", `Line ${header.line}: expected the bill header (${first},…).`, header.line);
  }
  const summaryAt = lines.findIndex((l, i) => i > 0 && l.content.startsWith(summaryFirst));
  if (summaryAt < 0) throw new BillFailure("MALFORMED_BILL", `The bill has no summary header (${summaryFirst},…).`);
  const summaryHeader = lines[summaryAt];
  const summaryRow = lines[summaryAt + 1];
  if (summaryHeader === undefined || summaryRow === undefined) {
    throw new BillFailure("MALFORMED_BILL", "The bill ends without its summary row.", summaryHeader?.line);
  }
  const trailing = lines[summaryAt + 2];
  if (trailing !== undefined) throw new BillFailure("MALFORMED_BILL", `Line ${trailing.line}: content after the summary row.`, trailing.line);
  return { columns, dataLines: lines.slice(1, summaryAt), summaryHeader, summaryRow };
}

function readBill(text: string, fallback: Currency): Bill {
  // One set of rules for whole bills and streamed ones: the streaming reader, fed once.
  const reader = createBillReader({ currency: fallback });
  const rows = reader.push(text);
  const summary = reader.end();
  return { columns: reader.columns ?? [], rows, summary };
}

/**
 * Parses a downloadbill CSV (§5.5), as text or UTF-8 bytes (gunzip first when tar_type=GZIP):
 * a BOM, the header line, backtick-prefixed data rows, then the summary header and row. Yuan
 * amounts become integer minor units of each row's 货币种类 (CNY when empty), without floats.
 * Malformed input yields MALFORMED_BILL naming the line; it never throws.
 */
export function parseBill(input: string | Uint8Array, options: ParseBillOptions = {}): ParseBillResult {
  const fallback = options.currency ?? "CNY";
  try {
    let text: string;
    try {
      text = typeof input === "string" ? input : utf8.decode(input);
    } catch {
      throw new BillFailure("MALFORMED_BILL", "The bill is not valid UTF-8.");
    }
    return { ok: true, value: readBill(text, fallback) };
  } catch (cause) {
    if (cause instanceof BillFailure) {
      return { ok: false, error: { code: cause.code, message: cause.message, ...(cause.line === undefined ? {} : { line: cause.line }) } };
    }
    throw cause;
  }
}

/** A backtick CSV's cells, for bills whose columns parseBill does not know (the v3 fund-flow bill). */
export interface TickedTable {
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<{ readonly cells: readonly string[]; readonly line: number }>;
  readonly summaryColumns: readonly string[];
  readonly summary: { readonly cells: readonly string[]; readonly line: number };
}

/**
 * Reads a bill in the downloadbill layout (BOM, header, backtick rows, summary header and row) into
 * cells, with the same rules as parseBill: `first` and `summaryFirst` are the first columns of the two
 * headers. Cells are trimmed text; a row whose field count differs from its header is MALFORMED_BILL.
 */
export function readTickedTable(input: string | Uint8Array, marks: { readonly first: string; readonly summaryFirst: string }): Result<TickedTable, BillErrorCode> {
  try {
    let text: string;
    try {
      text = typeof input === "string" ? input : utf8.decode(input);
    } catch {
      throw new BillFailure("MALFORMED_BILL", "The bill is not valid UTF-8.");
    }
    const sections = tickedSections(text, marks.first, marks.summaryFirst);
    const cellsOf = (l: TickedLine, columns: readonly string[]) => {
      const cells = splitTicked(l.content, l.line).map((c) => c.trim());
      if (cells.length !== columns.length) throw new BillFailure("MALFORMED_BILL", `Line ${l.line}: expected ${columns.length} fields, found ${cells.length}.`, l.line);
      return { cells, line: l.line };
    };
    const summaryColumns = splitHeader(sections.summaryHeader.content, sections.summaryHeader.line);
    return ok({
      columns: sections.columns,
      rows: sections.dataLines.map((l) => cellsOf(l, sections.columns)),
      summaryColumns,
      summary: cellsOf(sections.summaryRow, summaryColumns),
    });
  } catch (cause) {
    if (cause instanceof BillFailure) return err(cause.code, cause.message);
    throw cause;
  }
}
