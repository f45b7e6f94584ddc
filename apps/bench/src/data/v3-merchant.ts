// The bench's APIv3 side: the same made-up merchant (appid, mchid) placing orders with APIv3, its
// merchant API key and a WeChat Pay public key generated here (throwaway RSA-2048 pairs, written to
// files the API reads as a merchant's downloads), and the gateway's private half that signs the notifies.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildSignedV3Notify, generateV3TestKeyPair, type SignedV3Notify, type V3GatewaySigner } from "@pay/core/testing";
import { MERCHANT } from "./merchant.js";
import { orderIdAt, totalFeeAt, transactionIdAt } from "./orders.js";

/** The merchant's 32-character APIv3 key (made up; it encrypts every notify's resource). */
export const V3_API_KEY = "benchApiV3KeyForNotifies00000001";
/** The WeChat Pay public key's ID, as the merchant platform shows it. */
export const V3_PUBLIC_KEY_ID = "PUB_KEY_ID_0119000000012026120300000000000001";
/** The merchant API certificate's serial (the API signs its requests under it; no certificate file needed). */
export const V3_MERCHANT_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";

const COUPON_FEES = [10, 20] as const;

/** The APIv3 merchant of one bench run: key files for the API, and the gateway's signer for the notifies. */
export interface V3BenchMerchant {
  /** apiclient_key.pem: the merchant API private key. */
  readonly merchantKeyPath: string;
  /** wxp_pub.pem: the WeChat Pay public key the API verifies notifies with. */
  readonly publicKeyPath: string;
  /** The private half of the WeChat Pay public key: signs the notifies as the gateway would. */
  readonly gatewaySigner: V3GatewaySigner;
}

/** Generates the key pairs and writes the API's key files into `dir`. */
export function createV3BenchMerchant(dir: string): V3BenchMerchant {
  const merchantKey = generateV3TestKeyPair();
  const gatewayKey = generateV3TestKeyPair();
  const merchantKeyPath = join(dir, "apiclient_key.pem");
  const publicKeyPath = join(dir, "wxp_pub.pem");
  writeFileSync(merchantKeyPath, merchantKey.privateKeyPem, { mode: 0o600 });
  writeFileSync(publicKeyPath, gatewayKey.publicKeyPem);
  return { merchantKeyPath, publicKeyPath, gatewaySigner: { privateKey: gatewayKey.privateKey, serial: V3_PUBLIC_KEY_ID } };
}

/** The API's environment for placing orders with APIv3 in public-key mode (added to the v2 merchant's; notifies at /wxpay/v3/notify). */
export function v3ApiEnv(merchant: V3BenchMerchant, apiUrl: string): Record<string, string> {
  return {
    WXPAY_API_VERSION: "v3",
    WXPAY_APIV3_KEY: V3_API_KEY,
    WXPAY_CERT_KEY_PATH: merchant.merchantKeyPath,
    WXPAY_CERT_SERIAL_NO: V3_MERCHANT_SERIAL,
    WXPAY_PUBLIC_KEY_ID: V3_PUBLIC_KEY_ID,
    WXPAY_PUBLIC_KEY_PATH: merchant.publicKeyPath,
    WXPAY_NOTIFY_URL: `${apiUrl}/wxpay/v3/notify`,
    WXPAY_REFUND_NOTIFY_URL: `${apiUrl}/wxpay/v3/refund-notify`,
  };
}

/**
 * The decrypted resource of the i-th order's TRANSACTION.SUCCESS notify: the v2 notify's payment (same
 * order, transaction, total, two coupons, CJK attach) in APIv3's shape.
 */
export function v3PayNotifyResource(index: number): Record<string, unknown> {
  const total = totalFeeAt(index);
  return {
    transaction_id: transactionIdAt(index),
    amount: { payer_total: total - COUPON_FEES[0] - COUPON_FEES[1], total, currency: "CNY", payer_currency: "CNY" },
    mchid: MERCHANT.mchId,
    trade_state: "SUCCESS",
    bank_type: "CMB_CREDIT",
    promotion_detail: [
      {
        amount: COUPON_FEES[0],
        wechatpay_contribute: 0,
        coupon_id: "10000000000000000001",
        scope: "GLOBAL",
        merchant_contribute: COUPON_FEES[0],
        name: "满减券",
        other_contribute: 0,
        currency: "CNY",
        type: "CASH",
        stock_id: "1000000001",
      },
      {
        amount: COUPON_FEES[1],
        wechatpay_contribute: 0,
        coupon_id: "10000000000000000002",
        scope: "SINGLE",
        merchant_contribute: COUPON_FEES[1],
        name: "单品券",
        other_contribute: 0,
        currency: "CNY",
        type: "NOCASH",
        stock_id: "1000000002",
      },
    ],
    success_time: "2025-01-02T11:34:05+08:00",
    payer: { openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" },
    out_trade_no: orderIdAt(index),
    appid: MERCHANT.appId,
    trade_state_desc: "支付成功",
    trade_type: "JSAPI",
    attach: "深圳分店",
    scene_info: { device_id: "WEB" },
  };
}

/** The i-th order's notify as WeChat Pay sends it at `now`: the resource AES-256-GCM-encrypted with the APIv3 key, the body signed SHA256withRSA. */
export function signedV3PayNotify(index: number, merchant: V3BenchMerchant, now: Date): SignedV3Notify {
  return buildSignedV3Notify({ eventType: "TRANSACTION.SUCCESS", resource: v3PayNotifyResource(index), apiV3Key: V3_API_KEY, signer: merchant.gatewaySigner, now });
}
