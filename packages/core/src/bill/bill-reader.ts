import type { Currency } from "../money/currency.js";
import {
  BILL_SUMMARY_COUNT_COLUMN,
  BillFailure,
  parseRow,
  parseSummary,
  planColumns,
  splitHeader,
  splitTicked,
  type BillRow,
  type BillSummary,
  type ColumnPlan,
  type ParseBillOptions,
} from "./parse-bill.js";

/** The first column of a trade bill's data header. */
const DATA_HEADER_FIRST = "交易时间";

/**
 * A trade bill read as it arrives, for bills too large to hold (a busy merchant's day runs to
 * hundreds of megabytes). Feed it chunks with `push`, which answers the data rows those chunks
 * completed, then call `end` for the summary. The rules are parseBill's: a BOM, the header, backtick
 * rows, the summary header and row, nothing after; blank lines are skipped but counted. A malformed
 * or truncated bill throws BillFailure (MALFORMED_BILL, or MIXED_CURRENCIES at the first row in a
 * second currency), naming the line; after a throw the reader is spent.
 */
export interface BillReader {
  /** Feeds the next bytes (UTF-8, a character may span chunks) or text; answers the data rows completed, in file order. */
  push(chunk: Uint8Array | string): BillRow[];
  /** Ends the input and answers the summary; throws when the bill stops before its summary row. */
  end(): BillSummary;
  /** The data header's column names once read. */
  readonly columns: readonly string[] | undefined;
  /** Data rows read so far. */
  readonly rowCount: number;
}

type Stage = "header" | "rows" | "summary-row" | "done" | "failed";

export function createBillReader(options: ParseBillOptions = {}): BillReader {
  const fallback: Currency = options.currency ?? "CNY";
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let stage: Stage = "header";
  let pending = "";
  let lineNo = 0;
  let first = true;
  let columns: readonly string[] | undefined;
  let plan: ColumnPlan = planColumns([]);
  let summaryColumns: readonly string[] | undefined;
  let summaryHeaderLine = 0;
  let summary: BillSummary | undefined;
  let currency: Currency | undefined;
  let rowCount = 0;

  function take(content: string, line: number, rows: BillRow[]): void {
    if (content.trim() === "") return;
    switch (stage) {
      case "header": {
        const names = splitHeader(content, line);
        if (content.startsWith("`") || !names.includes(DATA_HEADER_FIRST)) {
          throw new BillFailure("MALFORMED_BILL", `Line ${line}: expected the bill header (${DATA_HEADER_FIRST},…).`, line);
        }
        columns = names;
        plan = planColumns(names);
        stage = "rows";
        return;
      }
      case "rows": {
        if (content.startsWith(BILL_SUMMARY_COUNT_COLUMN)) {
          summaryColumns = splitHeader(content, line);
          summaryHeaderLine = line;
          stage = "summary-row";
          return;
        }
        const row = parseRow(plan, splitTicked(content, line), line, fallback);
        if (currency === undefined) currency = row.currency;
        else if (row.currency !== currency) {
          throw new BillFailure("MIXED_CURRENCIES", `Line ${line}: a row in ${row.currency} after rows in ${currency}; the summary totals cannot be read in one currency.`, line);
        }
        rowCount += 1;
        rows.push(row);
        return;
      }
      case "summary-row":
        summary = parseSummary(summaryColumns ?? [], splitTicked(content, line), line, currency ?? fallback);
        stage = "done";
        return;
      case "done":
        throw new BillFailure("MALFORMED_BILL", `Line ${line}: content after the summary row.`, line);
      case "failed":
        throw new BillFailure("MALFORMED_BILL", "The bill reader already failed.");
    }
  }

  function guarded<T>(body: () => T): T {
    if (stage === "failed") throw new BillFailure("MALFORMED_BILL", "The bill reader already failed.");
    try {
      return body();
    } catch (cause) {
      stage = "failed";
      throw cause;
    }
  }

  function decode(chunk: Uint8Array | string, stream: boolean): string {
    if (typeof chunk === "string") return chunk;
    try {
      return decoder.decode(chunk, { stream });
    } catch {
      throw new BillFailure("MALFORMED_BILL", `The bill is not valid UTF-8 (after line ${lineNo}).`, lineNo + 1);
    }
  }

  function feed(text: string, rows: BillRow[]): void {
    let chunk = text;
    if (first && chunk !== "") {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      first = false;
    }
    let start = 0;
    let data = pending + chunk;
    let newline = data.indexOf("\n", start);
    while (newline >= 0) {
      const end = newline > start && data.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      lineNo += 1;
      take(data.slice(start, end), lineNo, rows);
      start = newline + 1;
      newline = data.indexOf("\n", start);
    }
    pending = data.slice(start);
    data = "";
  }

  return {
    push(chunk) {
      return guarded(() => {
        const rows: BillRow[] = [];
        feed(decode(chunk, true), rows);
        return rows;
      });
    },
    end() {
      return guarded(() => {
        const rows: BillRow[] = [];
        feed(decode(new Uint8Array(0), false), rows);
        if (pending !== "") {
          const last = pending.endsWith("\r") ? pending.slice(0, -1) : pending;
          pending = "";
          lineNo += 1;
          take(last, lineNo, rows);
        }
        // A data row on the last, unterminated line is still a row; a bill that ends there has no summary.
        if (stage === "header") throw new BillFailure("MALFORMED_BILL", "The bill is empty.");
        if (stage === "rows") throw new BillFailure("MALFORMED_BILL", `The bill has no summary header (${BILL_SUMMARY_COUNT_COLUMN},…): it is truncated.`);
        if (stage === "summary-row" || summary === undefined) {
          throw new BillFailure("MALFORMED_BILL", "The bill ends without its summary row: it is truncated.", summaryHeaderLine);
        }
        stage = "done";
        return summary;
      });
    },
    get columns() {
      return columns;
    },
    get rowCount() {
      return rowCount;
    },
  };
}
