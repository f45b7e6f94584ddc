import { describe, expect, it } from "vitest";
import { buildDownloadBillFields, parseDownloadBillRequest, type DownloadBillRequest } from "./download-bill.js";

const base = { appid: "wx2421b1c4370ec43b", mchId: "10000100", nonceStr: "21df7dc9cd8616b56919f20d9f679233" };

describe("downloadbill request", () => {
  it.each<[Partial<DownloadBillRequest>, Record<string, string>]>([
    [
      { billDate: "20240501", billType: "ALL" },
      { bill_date: "20240501", bill_type: "ALL" },
    ],
    [
      { billDate: "20240229", billType: "SUCCESS", tarType: "GZIP" },
      { bill_date: "20240229", bill_type: "SUCCESS", tar_type: "GZIP" },
    ],
    [
      { billDate: "20231231", billType: "REFUND" },
      { bill_date: "20231231", bill_type: "REFUND" },
    ],
    [
      { billDate: "20231231", billType: "RECHARGE_REFUND" },
      { bill_date: "20231231", bill_type: "RECHARGE_REFUND" },
    ],
  ])("builds %o", (change, expected) => {
    expect(buildDownloadBillFields({ ...base, ...change } as DownloadBillRequest)).toEqual({
      appid: "wx2421b1c4370ec43b",
      mch_id: "10000100",
      nonce_str: "21df7dc9cd8616b56919f20d9f679233",
      ...expected,
    });
  });

  it.each<[Partial<Record<keyof DownloadBillRequest, unknown>>, string]>([
    [{ billDate: "2024-05-01", billType: "ALL" }, "Field bill_date: expected yyyyMMdd"],
    [{ billDate: "20230229", billType: "ALL" }, "Field bill_date: is not a real date"],
    [{ billDate: "20241301", billType: "ALL" }, "Field bill_date: is not a real date"],
    [{ billDate: "20240501", billType: "FAILED" }, "Field bill_type:"],
    [{ billDate: "20240501", billType: "ALL", tarType: "ZIP" }, "Field tar_type:"],
  ])("refuses %o", (change, message) => {
    expect(() => buildDownloadBillFields({ ...base, ...change } as DownloadBillRequest)).toThrow(message);
  });

  it("parses received fields, answering a missing bill_type as MISSING_FIELD", () => {
    const parsed = parseDownloadBillRequest({ appid: "wx1", mch_id: "1", nonce_str: "n", sign: "S", bill_date: "20240501" });
    expect(parsed.ok ? undefined : parsed.error.code).toBe("MISSING_FIELD");
  });
});
