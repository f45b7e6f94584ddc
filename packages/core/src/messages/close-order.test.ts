import { describe, expect, it } from "vitest";
import { buildCloseOrderFields, CloseOrderResponseSchema, parseCloseOrderRequest } from "./close-order.js";

describe("closeorder", () => {
  it("builds the request from out_trade_no alone", () => {
    expect(buildCloseOrderFields({ appid: "wx2421b1c4370ec43b", mchId: "10000100", nonceStr: "4ca93f17ddf3443ceabf72f26d64fe0e", outTradeNo: "1415983244" })).toEqual({
      appid: "wx2421b1c4370ec43b",
      mch_id: "10000100",
      nonce_str: "4ca93f17ddf3443ceabf72f26d64fe0e",
      out_trade_no: "1415983244",
    });
  });

  it.each([
    [{}, "MISSING_FIELD", "Field out_trade_no:"],
    [{ out_trade_no: "1415983244", sub_appid: "wxsub" }, "MISSING_FIELD", "Field sub_mch_id:"],
    [{ out_trade_no: "1415983244", sign_type: "SHA1" }, "INVALID_FIELD", "Field sign_type:"],
  ])("parses a received request %o as %s", (extra, code, message) => {
    const parsed = parseCloseOrderRequest({ appid: "wx2421b1c4370ec43b", mch_id: "10000100", nonce_str: "n", sign: "S", ...extra });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.code).toBe(code);
      expect(parsed.error.message).toContain(message);
    }
  });

  it("reads the answer with result_msg", () => {
    const value = CloseOrderResponseSchema.parse({
      return_code: "SUCCESS",
      return_msg: "OK",
      appid: "wx2421b1c4370ec43b",
      mch_id: "10000100",
      nonce_str: "BFK89FC6rxKCOjLX",
      sign: "72B321D92A7BFA0B2509F3D13C7B1631",
      result_code: "SUCCESS",
      result_msg: "OK",
    });
    expect(value).toMatchObject({ resultCode: "SUCCESS", resultMsg: "OK", nonceStr: "BFK89FC6rxKCOjLX" });
  });
});
