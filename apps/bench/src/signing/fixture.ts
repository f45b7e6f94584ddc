import type { SignType } from "@pay/core";
import { DIRECT } from "@pay/test-kit/merchants";

/** One signing workload: the same logical fields, key and algorithm for every contender. */
export interface SignFixture {
  readonly signType: SignType;
  readonly key: string;
  readonly params: Readonly<Record<string, string | number>>;
}

/** A realistic 12-field unifiedorder request (JSAPI), with CJK text and a numeric total_fee. */
export function unifiedOrderFixture(signType: SignType): SignFixture {
  return {
    signType,
    // The merchant of WeChat's v2 security spec example (appid, mch_id and key); not a real secret.
    key: DIRECT.key,
    params: {
      appid: DIRECT.appId,
      mch_id: DIRECT.mchId,
      nonce_str: "ibuaiVcKdpRxkhJA",
      body: "腾讯充值中心-QQ会员充值",
      out_trade_no: "20150806125346",
      total_fee: 888,
      spbill_create_ip: "123.12.12.123",
      notify_url: "https://pay.example.com/wxpay/notify",
      trade_type: "JSAPI",
      openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
      attach: "深圳分店",
      sign_type: signType,
    },
  };
}
