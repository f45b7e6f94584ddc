#!/usr/bin/env node
// Signs the documented Mini Program payment example with the built @pay/core and prints the five
// wx.requestPayment fields, then verifies a notify. Run through `pnpm start`.
import { buildRequestPaymentParams, parsePayNotify, formatMoney } from "@pay/core";
import { buildSignedPayNotify } from "@pay/core/testing";

const key = "qazwsxedcrfvtgbyhnujmikolp111111";
const params = buildRequestPaymentParams({
  appId: "wxd678efh567hg6787",
  prepayId: "wx2017033010242291fcfe0db70013231072",
  signType: "MD5",
  key,
  now: 1490840662 * 1000,
  nonceStr: "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
});
console.log("wx.requestPayment(", JSON.stringify(params, null, 2), ")");
console.log(params.paySign === "22D9B4E54AB1950F51E0649E8810ACD6" ? "paySign matches the documented example" : "paySign DIFFERS from the documented example");

const notify = buildSignedPayNotify(
  { return_code: "SUCCESS", result_code: "SUCCESS", appid: "wxd678efh567hg6787", mch_id: "10000100", openid: "o1", trade_type: "JSAPI", bank_type: "CMC", total_fee: 1990, cash_fee: 1990, transaction_id: "4200000000202601010000000001", out_trade_no: "DEMO000001", time_end: "20260101120000" },
  { key, signType: "HMAC-SHA256", omitSignType: true },
);
const parsed = parsePayNotify(notify, { key, signType: "HMAC-SHA256", inferSignType: true });
if (!parsed.ok) {
  console.error("notify rejected:", parsed.error);
  process.exit(1);
}
console.log(`notify verified (${parsed.value.signType}, no sign_type on the wire): ${parsed.value.notify.outTradeNo} paid ${formatMoney({ amount: parsed.value.notify.totalFee, currency: "CNY" })}`);
