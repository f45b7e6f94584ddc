import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createBillReader } from "./bill-reader.js";
import { BillFailure, parseBill, type Bill, type BillRow, type BillSummary, type ParseBillOptions } from "./parse-bill.js";

import { CNY_BILL, HEADER, JPY_BILL, PAYMENT, REFUND, SUMMARY_HEADER, ticked } from "../../test/support/bills.js";

const SUMMARY = ticked(["1", "12.34", "0.00", "0.00", "0.07404", "12.34", "0.00"]);

/** A day as the sandbox writes it: many payments and refunds, multi-byte product names, CRLF. */
function sandboxLikeBill(count: number): string {
  const rows: string[] = [];
  for (let i = 0; i < count; i++) {
    const cells = [...(i % 3 === 2 ? REFUND : PAYMENT)];
    cells[6] = `ord_${String(i).padStart(6, "0")}`;
    cells[20] = `商品 ${i} — 咖啡☕`;
    rows.push(ticked(cells));
  }
  const payments = rows.length - Math.floor(count / 3);
  const refunds = Math.floor(count / 3);
  const total = (payments * 1234) / 100;
  return `\uFEFF${[HEADER, ...rows, SUMMARY_HEADER, ticked([String(count), total.toFixed(2), (refunds * 5).toFixed(2), "0.00", "0.00000", total.toFixed(2), (refunds * 5).toFixed(2)])].join("\r\n")}\r\n`;
}

const encoder = new TextEncoder();

function parsedBill(input: string | Uint8Array, options: ParseBillOptions = {}): Bill {
  const result = parseBill(input, options);
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

/** Reads `bytes` through a reader fed in the pieces `cuts` (sorted offsets) make. */
function readInPieces(bytes: Uint8Array, cuts: readonly number[], options: ParseBillOptions = {}): { rows: BillRow[]; summary: BillSummary } {
  const reader = createBillReader(options);
  const rows: BillRow[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    rows.push(...reader.push(bytes.subarray(at, cut)));
    at = cut;
  }
  return { rows, summary: reader.end() };
}

function failureOf(action: () => unknown): BillFailure {
  try {
    action();
  } catch (cause) {
    if (cause instanceof BillFailure) return cause;
    throw cause;
  }
  throw new Error("expected a BillFailure");
}

const cutsOf = (length: number) => fc.uniqueArray(fc.integer({ min: 0, max: length }), { maxLength: 40 }).map((cuts) => cuts.sort((a, b) => a - b));

describe("createBillReader", () => {
  it.each([
    ["the CNY reference bill", CNY_BILL, {}],
    ["the JPY reference bill", JPY_BILL, {}],
    ["a sandbox-like day", sandboxLikeBill(60), {}],
    ["a bill with no trades", [HEADER, SUMMARY_HEADER, ticked(["0", "0.00", "0.00", "0.00", "0.00000", "0.00", "0.00"])].join("\n"), {}],
  ])("reads %s to parseBill's rows and summary", (_, text, options) => {
    const bill = parsedBill(text, options);
    const read = readInPieces(encoder.encode(text), []);
    expect(read).toEqual({ rows: bill.rows, summary: bill.summary });
  });

  it("reads text chunks as well as bytes", () => {
    const reader = createBillReader();
    const rows = [...reader.push(CNY_BILL.slice(0, 100)), ...reader.push(CNY_BILL.slice(100))];
    const bill = parsedBill(CNY_BILL);
    expect({ rows, summary: reader.end() }).toEqual({ rows: bill.rows, summary: bill.summary });
    expect(reader.rowCount).toBe(3);
    expect(reader.columns?.[0]).toBe("交易时间");
  });

  it("gives the same rows and summary for every split of the bill (inside characters and CRLF too)", () => {
    const bytes = encoder.encode(sandboxLikeBill(12));
    const expected = parsedBill(bytes);
    fc.assert(
      fc.property(cutsOf(bytes.length), (cuts) => {
        expect(readInPieces(bytes, cuts)).toEqual({ rows: expected.rows, summary: expected.summary });
      }),
      { numRuns: 200 },
    );
  });

  it("reads a bill fed one byte at a time", () => {
    for (const text of [CNY_BILL, JPY_BILL]) {
      const bytes = encoder.encode(text);
      const cuts = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
      const bill = parsedBill(text);
      expect(readInPieces(bytes, cuts)).toEqual({ rows: bill.rows, summary: bill.summary });
    }
  });

  it("splits inside a CRLF and inside a multi-byte character", () => {
    const bytes = encoder.encode(CNY_BILL);
    const crlf = bytes.indexOf(13);
    const multi = bytes.findIndex((b) => b >= 0xe0 && b < 0xf0);
    const bill = parsedBill(CNY_BILL);
    expect(readInPieces(bytes, [crlf + 1])).toEqual({ rows: bill.rows, summary: bill.summary });
    expect(readInPieces(bytes, [multi + 1, multi + 2])).toEqual({ rows: bill.rows, summary: bill.summary });
  });

  it.each<[string, string, string, number | undefined]>([
    ["no summary header", [HEADER, ticked(PAYMENT)].join("\r\n"), "no summary header", undefined],
    ["a summary header without its row", [HEADER, ticked(PAYMENT), SUMMARY_HEADER, ""].join("\r\n"), "without its summary row", 3],
    ["a line cut mid-way", `${[HEADER, ticked(PAYMENT)].join("\r\n")}\r\n${ticked(PAYMENT).slice(0, 40)}`, "Line 3:", 3],
    ["content after the summary", [HEADER, ticked(PAYMENT), SUMMARY_HEADER, SUMMARY, ticked(PAYMENT)].join("\r\n"), "Line 5: content after the summary row", 5],
  ])("refuses a truncated or overlong bill (%s) as MALFORMED_BILL, naming a line", (_, text, message, line) => {
    const bytes = encoder.encode(text);
    for (const cuts of [[], [Math.floor(bytes.length / 2)], [bytes.length - 1]]) {
      const failure = failureOf(() => readInPieces(bytes, cuts));
      expect(failure.code).toBe("MALFORMED_BILL");
      expect(failure.message).toContain(message);
      if (line !== undefined) expect(failure.line).toBe(line);
    }
  });

  it("refuses a second currency at its row, whatever the chunks", () => {
    const text = [HEADER, ticked(PAYMENT), ticked(PAYMENT.map((c, i) => (i === 11 ? "HKD" : c))), SUMMARY_HEADER, SUMMARY].join("\n");
    const bytes = encoder.encode(text);
    fc.assert(
      fc.property(cutsOf(bytes.length), (cuts) => {
        const failure = failureOf(() => readInPieces(bytes, cuts));
        expect(failure.code).toBe("MIXED_CURRENCIES");
        expect(failure.line).toBe(3);
      }),
      { numRuns: 50 },
    );
  });

  it("refuses invalid UTF-8 split across chunks", () => {
    const head = encoder.encode(`${HEADER}\n`);
    const bad = new Uint8Array([...head, 0xe4, 0xb8, 0x41, 0x0a]);
    const failure = failureOf(() => readInPieces(bad, [head.length + 1, head.length + 2]));
    expect(failure.code).toBe("MALFORMED_BILL");
    expect(failure.message).toContain("not valid UTF-8");
    // A character left unfinished at the end is invalid too.
    const cut = new Uint8Array([...encoder.encode(CNY_BILL), 0xe4, 0xb8]);
    expect(failureOf(() => readInPieces(cut, [10])).message).toContain("not valid UTF-8");
  });

  it("refuses further input once spent, after a failure or after the end", () => {
    const failed = createBillReader();
    expect(() => failed.push("not a header\n")).toThrow(BillFailure);
    expect(failureOf(() => failed.push(CNY_BILL)).message).toContain("already failed");
    expect(failureOf(() => failed.end()).message).toContain("already failed");

    const ended = createBillReader();
    ended.push(CNY_BILL);
    ended.end();
    expect(failureOf(() => ended.push(ticked(PAYMENT) + "\n")).code).toBe("MALFORMED_BILL");
  });
});
