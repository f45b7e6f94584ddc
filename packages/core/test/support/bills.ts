// The trade-bill fixtures the bill tests share: the header, a payment, a refund and a fractional-fee
// line as the downloadbill CSV writes them, a CNY bill of the three and a JPY (zero-decimal) bill.

export const HEADER =
  "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
export const SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额";

export const ticked = (cells: readonly string[]): string => cells.map((c) => `\`${c}`).join(",");

export const PAYMENT = [
  "2024-05-01 10:15:30",
  "wx2421b1c4370ec43b",
  "10000100",
  "0",
  "",
  "4200000001202405011234567890",
  "1415659990",
  "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
  "JSAPI",
  "SUCCESS",
  "CMC",
  "CNY",
  "12.34",
  "0.00",
  "0",
  "0",
  "0.00",
  "0.00",
  "",
  "",
  "JSAPI支付测试",
  "支付测试",
  "0.07404",
  "0.60%",
  "12.34",
  "0.00",
  "",
];
export const REFUND = [
  "2024-05-01 11:00:00",
  "wx2421b1c4370ec43b",
  "10000100",
  "0",
  "",
  "4200000001202405011234567890",
  "1415659990",
  "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
  "JSAPI",
  "REFUND",
  "CMC",
  "CNY",
  "0.00",
  "0.00",
  "50000000012024050100000000001",
  "R1415701182",
  "5",
  "0.00",
  "ORIGINAL",
  "SUCCESS",
  "JSAPI支付测试",
  "",
  "-0.03000",
  "0.60%",
  "0.00",
  "5.00",
  "",
];
export const SMALL = [
  "2024-05-01 12:00:00",
  "wx2421b1c4370ec43b",
  "10000100",
  "0",
  "",
  "4200000001202405011234567891",
  "1415659991",
  "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
  "JSAPI",
  "SUCCESS",
  "OTHERS",
  "",
  "0.01",
  "0.00",
  "0",
  "0",
  "0.00",
  "0.00",
  "",
  "",
  "商品,含逗号",
  "",
  "0.00006",
  "0.60%",
  "0.01",
  "0.00",
  "",
];

/** An ALL bill as downloadbill returns it: BOM, header, backticked rows, summary, CRLF line ends. */
export const CNY_BILL = `\uFEFF${[HEADER, ticked(PAYMENT), ticked(REFUND), ticked(SMALL), SUMMARY_HEADER, ticked(["3", "12.35", "5.00", "0.00", "0.04410", "12.35", "5.00"])].join(
  "\r\n",
)}\r\n`;

/** A Global bill in JPY (exponent 0) with a column this parser does not know. */
export const JPY_BILL = [
  "交易时间,公众账号ID,商户号,特约商户号,微信订单号,商户订单号,交易类型,交易状态,货币种类,应结订单金额,订单金额,手续费,汇率",
  ticked([
    "2024-05-01 10:00:00",
    "wxinstitution0000001",
    "1900000100",
    "1900000109",
    "4200000002202405011234567890",
    "JP0000001",
    "JSAPI",
    "SUCCESS",
    "JPY",
    "1750",
    "1750.00",
    "35.00000",
    "0.04650000",
  ]),
  "总交易单数,应结订单总金额,手续费总金额,订单总金额",
  ticked(["1", "1750", "35.00000", "1750"]),
].join("\n");
