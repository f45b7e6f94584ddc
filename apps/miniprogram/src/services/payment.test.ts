import type { RequestPaymentParams } from "@pay/core/contract";
import { describe, expect, it } from "vitest";
import { createFakePlatform } from "../../test/support/fake-platform.js";
import { requestPayment } from "./payment.js";

const PAYMENT: RequestPaymentParams = {
  timeStamp: "1490840662",
  nonceStr: "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
  package: "prepay_id=wx2017033010242291fcfe0db70013231072",
  signType: "HMAC-SHA256",
  paySign: "A".repeat(64),
};

describe("requestPayment", () => {
  it("hands wx.requestPayment exactly the five signed fields, even when the server sent more", async () => {
    const platform = createFakePlatform();
    const extra = { ...PAYMENT, appId: "wx8888888888888888", totalFee: 1 } as RequestPaymentParams;
    expect(await requestPayment(platform, extra)).toEqual({ kind: "submitted" });
    expect(platform.payments).toEqual([PAYMENT]);
  });

  it.each([
    ["cancel", { kind: "cancelled" }],
    ["legacy-cancel", { kind: "cancelled" }],
    [
      { fail: "requestPayment:fail 余额不足，请更换支付方式" },
      { kind: "failed", errMsg: "requestPayment:fail 余额不足，请更换支付方式", message: "WeChat Pay could not complete the payment: 余额不足，请更换支付方式" },
    ],
    [{ fail: "requestPayment:fail" }, { kind: "failed", errMsg: "requestPayment:fail", message: "WeChat Pay could not complete the payment." }],
    [{ fail: "requestPayment:fail parameter error: parameter.timeStamp should be String" }, { kind: "failed" }],
  ] as const)("reads the sheet's %j as %j", async (script, outcome) => {
    const platform = createFakePlatform();
    platform.sheet(script);
    expect(await requestPayment(platform, PAYMENT)).toMatchObject(outcome);
  });
});
