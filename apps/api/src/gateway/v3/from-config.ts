import type { AppConfig } from "../../env.js";
import type { V3Credentials } from "../../v3-credentials.js";
import type { V3GatewayOptions } from "./gateway.js";

/** What the configuration does not say: the logger, and the knobs a process or a test sets itself. */
export type V3GatewayExtras = Pick<V3GatewayOptions, "logger"> & Partial<Omit<V3GatewayOptions, "logger">>;

/** The v3 gateway's options from the configuration and the key files read at start (loadV3Credentials). */
export function v3GatewayOptions(config: AppConfig, v3: V3Credentials, extras: V3GatewayExtras): V3GatewayOptions {
  return {
    account: v3.account,
    appId: config.merchant.appId,
    mchId: config.merchant.mchId,
    subAppId: config.merchant.subAppId,
    subMchId: config.merchant.subMchId,
    merchantCategoryCode: v3.merchantCategoryCode,
    apiV3Key: v3.apiV3Key,
    privateKey: v3.merchantPrivateKey,
    serialNo: v3.merchantSerial,
    keyMode: v3.mode,
    publicKey: v3.publicKey === undefined ? undefined : { id: v3.publicKey.id, pem: v3.publicKey.publicKey.export({ type: "spki", format: "pem" }).toString() },
    baseUrl: config.gateway.baseUrl,
    failoverBaseUrl: config.gateway.failoverBaseUrl,
    allowHttpNotifyUrl: v3.allowHttpNotifyUrl,
    ...extras,
  };
}
