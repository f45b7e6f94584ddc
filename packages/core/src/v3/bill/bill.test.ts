import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatAmount } from "../../money/money.js";
import { parseV3Answer } from "../messages/answer.js";
import { checkV3BillSha1, parseV3TradeBill, readV3BillFile } from "./bill-file.js";
import { buildV3BillDownload, buildV3FundFlowBill, buildV3TradeBill, V3BillAnswerSchema } from "./bill-request.js";

describe("bill requests", () => {
  it("builds the trade bill query in the documented order", () => {
    expect(buildV3TradeBill({ billDate: "2019-06-11" })).toEqual({
      method: "GET",
      host: "https://api.mch.weixin.qq.com",
      path: "/v3/bill/tradebill?bill_date=2019-06-11",
      body: "",
    });
    expect(buildV3TradeBill({ billDate: "2019-06-11", subMchid: "1900000109", billType: "SUCCESS", tarType: "GZIP" }).path).toBe(
      "/v3/bill/tradebill?bill_date=2019-06-11&sub_mchid=1900000109&bill_type=SUCCESS&tar_type=GZIP",
    );
  });

  it("builds the fund-flow bill query", () => {
    expect(buildV3FundFlowBill({ billDate: "2019-06-11", subMchid: "1900000109" }).path).toBe("/v3/bill/fundflowbill?bill_date=2019-06-11&sub_mchid=1900000109");
    expect(buildV3FundFlowBill({ billDate: "2019-06-11", accountType: "BASIC", tarType: "GZIP" })).toEqual({
      method: "GET",
      host: "https://api.mch.weixin.qq.com",
      path: "/v3/bill/fundflowbill?bill_date=2019-06-11&account_type=BASIC&tar_type=GZIP",
      body: "",
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["a compact date", { billDate: "20190611" }, "Field bill_date: expected yyyy-MM-dd"],
    ["30 February", { billDate: "2019-02-30" }, "Field bill_date: is not a real date"],
    ["an unknown bill_type", { billDate: "2019-06-11", billType: "EVERYTHING" }, "Field bill_type:"],
    ["tar_type ZIP", { billDate: "2019-06-11", tarType: "ZIP" }, "Field tar_type:"],
  ])("refuses %s", (_, request, message) => {
    expect(() => buildV3TradeBill(request as never)).toThrow(message);
  });

  it("reads the bill answer of reference §9", () => {
    const text = '{"hash_type":"SHA1","hash_value":"79bb0f45fc4c42234a918000b2668d689e2bde04","download_url":"https://api.mch.weixin.qq.com/v3/billdownload/file?token=xxx"}';
    expect(parseV3Answer(V3BillAnswerSchema, text)).toEqual({
      ok: true,
      value: { hashType: "SHA1", hashValue: "79bb0f45fc4c42234a918000b2668d689e2bde04", downloadUrl: "https://api.mch.weixin.qq.com/v3/billdownload/file?token=xxx" },
    });
    expect(parseV3Answer(V3BillAnswerSchema, '{"hash_type":"MD5","hash_value":"79bb0f45fc4c42234a918000b2668d689e2bde04","download_url":"https://a/b"}')).toMatchObject({
      ok: false,
      error: { code: "INVALID_FIELD" },
    });
    expect(parseV3Answer(V3BillAnswerSchema, '{"hash_type":"SHA1","hash_value":"79bb0f45fc4c42234a918000b2668d689e2bde04"}')).toMatchObject({
      ok: false,
      error: { code: "MISSING_FIELD", message: "Field download_url: is required" },
    });
  });

  it("signs the download with the download_url's path and query, only on an allowed origin", () => {
    expect(
      buildV3BillDownload({ downloadUrl: "https://api.mch.weixin.qq.com/v3/billdownload/file?token=6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA_Cv_isgaUtBzp4QtiozLO" }),
    ).toEqual({
      ok: true,
      value: {
        method: "GET",
        host: "https://api.mch.weixin.qq.com",
        path: "/v3/billdownload/file?token=6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA_Cv_isgaUtBzp4QtiozLO",
        body: "",
      },
    });
    expect(buildV3BillDownload({ downloadUrl: "https://evil.example/v3/billdownload/file?token=x" })).toMatchObject({ ok: false, error: { code: "UNTRUSTED_DOWNLOAD_URL" } });
    expect(buildV3BillDownload({ downloadUrl: "not a url" })).toMatchObject({ ok: false, error: { code: "UNTRUSTED_DOWNLOAD_URL" } });
    expect(buildV3BillDownload({ downloadUrl: "http://127.0.0.1:4010/v3/billdownload/file?token=t" }, { allowedOrigins: ["http://127.0.0.1:4010"] })).toMatchObject({
      ok: true,
      value: { host: "http://127.0.0.1:4010", path: "/v3/billdownload/file?token=t" },
    });
  });
});

const HEADER =
  "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
const SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额";
const ticked = (cells: readonly string[]): string => cells.map((c) => `\`${c}`).join(",");

/** A trade bill in the v3 format (the v2 CSV: BOM, header, backtick rows, summary), one paid row per amount. */
function tradeBill(amounts: readonly number[]): string {
  const rows = amounts.map((fen, i) =>
    ticked([
      "2019-02-19 05:01:46",
      "wxab8acd895ab1638a",
      "1900000100",
      "0",
      "",
      `42000000012019021912345678${String(i).padStart(2, "0")}`,
      `order${String(i).padStart(6, "0")}`,
      "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
      "JSAPI",
      "SUCCESS",
      "OTHERS",
      "CNY",
      formatAmount(fen, "CNY"),
      "0.00",
      "0",
      "0",
      "0.00",
      "0.00",
      "",
      "",
      "商品",
      "",
      "0.00000",
      "0.60%",
      formatAmount(fen, "CNY"),
      "0.00",
      "",
    ]),
  );
  const total = formatAmount(
    amounts.reduce((a, b) => a + b, 0),
    "CNY",
  );
  return `\uFEFF${HEADER}\r\n${rows.join("\r\n")}\r\n${SUMMARY_HEADER}\r\n${ticked([String(amounts.length), total, "0.00", "0.00", "0.00000", total, "0.00"])}\r\n`;
}

const sha1 = (bytes: Uint8Array): string => createHash("sha1").update(bytes).digest("hex");

describe("bill file", () => {
  it("round-trips: build a CSV, gzip it, SHA1 it, read it back into minor units", () => {
    const csv = Buffer.from(tradeBill([1234, 1, 99900]), "utf8");
    const parsed = parseV3TradeBill(gzipSync(csv), { hashValue: sha1(csv), tarType: "GZIP" });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.rows.map((r) => r.totalFee)).toEqual([
      { amount: 1234, currency: "CNY" },
      { amount: 1, currency: "CNY" },
      { amount: 99900, currency: "CNY" },
    ]);
    expect(parsed.value.summary).toMatchObject({ tradeCount: 3, totalFee: { amount: 101135, currency: "CNY" } });
  });

  it("reads a plain (not gzipped) bill and compares the hash in any case", () => {
    const csv = Buffer.from(tradeBill([500]), "utf8");
    expect(parseV3TradeBill(csv, { hashValue: sha1(csv).toUpperCase() }).ok).toBe(true);
  });

  it.each<[string, () => { bytes: Uint8Array; hashValue: string; tarType?: "GZIP" }, string]>([
    ["a one-byte change", () => ({ bytes: Buffer.from(tradeBill([1234]).replace("12.34", "12.35")), hashValue: sha1(Buffer.from(tradeBill([1234]))) }), "HASH_MISMATCH"],
    [
      "the hash of the compressed bytes",
      () => ({ bytes: gzipSync(Buffer.from(tradeBill([1]))), hashValue: sha1(gzipSync(Buffer.from(tradeBill([1])))), tarType: "GZIP" }),
      "HASH_MISMATCH",
    ],
    ["a malformed hash", () => ({ bytes: Buffer.from(tradeBill([1])), hashValue: "xyz" }), "HASH_MISMATCH"],
    ["a plain file asked as GZIP", () => ({ bytes: Buffer.from(tradeBill([1])), hashValue: sha1(Buffer.from(tradeBill([1]))), tarType: "GZIP" }), "MALFORMED_ARCHIVE"],
    [
      "a truncated archive",
      () => ({ bytes: gzipSync(Buffer.from(tradeBill([1]))).subarray(0, 20), hashValue: sha1(Buffer.from(tradeBill([1]))), tarType: "GZIP" }),
      "MALFORMED_ARCHIVE",
    ],
    ["a file that is no bill", () => ({ bytes: Buffer.from("hello"), hashValue: sha1(Buffer.from("hello")) }), "MALFORMED_BILL"],
  ])("refuses %s", (_, input, code) => {
    const { bytes, ...options } = input();
    const parsed = parseV3TradeBill(bytes, options);
    expect(parsed).toMatchObject({ ok: false, error: { code } });
  });

  it("checks SHA1 only against 40 hex digits", () => {
    const bytes = Buffer.from("abc");
    expect(checkV3BillSha1(bytes, "a9993e364706816aba3e25717850c26c9cd0d89d")).toBe(true);
    expect(checkV3BillSha1(bytes, "a9993e364706816aba3e25717850c26c9cd0d89e")).toBe(false);
    expect(checkV3BillSha1(bytes, "a9993e364706816aba3e25717850c26c9cd0d8")).toBe(false);
    expect(readV3BillFile(bytes, { hashValue: "a9993e364706816aba3e25717850c26c9cd0d89d" })).toEqual({ ok: true, value: bytes });
  });

  it("round-trips any amounts through CSV, gzip and SHA1 without losing a fen", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1e13 }), { minLength: 1, maxLength: 20 }), (amounts) => {
        const csv = Buffer.from(tradeBill(amounts), "utf8");
        const parsed = parseV3TradeBill(gzipSync(csv), { hashValue: sha1(csv), tarType: "GZIP" });
        expect(parsed.ok && parsed.value.rows.map((r) => r.settlementTotalFee?.amount)).toEqual(amounts);
      }),
      { numRuns: 50 },
    );
  });
});
