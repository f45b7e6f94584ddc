import { createDecipheriv, createPublicKey, verify, type KeyObject } from "node:crypto";
import { createV3KeyStore, parseV3Notify } from "@pay/core";
import { buildSignedV3Notify, generateV3TestKeyPair, type V3SignedHeaders } from "@pay/core/testing";
import { Aes, Formatter, Rsa } from "wechatpay-axios-plugin";

/** One signed, encrypted TRANSACTION.SUCCESS notify as the gateway sends it, and what receiving it needs. */
export interface V3NotifyFixture {
  readonly body: string;
  readonly headers: V3SignedHeaders;
  readonly publicKeyId: string;
  readonly publicKeyPem: string;
  readonly apiV3Key: string;
  readonly now: Date;
  /** The order amount every contender must read back (the checksum unit). */
  readonly total: number;
}

/** A notify signed in WeChat Pay public-key mode (RSA-2048), about 1 kB, with the live key order. */
export function v3NotifyFixture(): V3NotifyFixture {
  const gateway = generateV3TestKeyPair();
  const now = new Date("2026-03-01T12:00:00Z");
  const apiV3Key = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
  const publicKeyId = "PUB_KEY_ID_0114232134912410000000000000";
  const total = 1888;
  const resource = {
    transaction_id: "4200001863202305068344507881",
    amount: { currency: "CNY", payer_currency: "CNY", payer_total: total, total },
    mchid: "1642979517",
    trade_state: "SUCCESS",
    bank_type: "OTHERS",
    promotion_detail: [],
    success_time: "2026-03-01T19:59:58+08:00",
    payer: { openid: "oPuGI5V0_LybXP5_fmDLmW1Aiggw" },
    out_trade_no: "1654747149419622403202305061517",
    appid: "wxfc0e36204345c206",
    trade_state_desc: "支付成功",
    trade_type: "JSAPI",
    attach: "5_21",
    scene_info: { device_id: "" },
  };
  const notify = buildSignedV3Notify({ eventType: "TRANSACTION.SUCCESS", resource, apiV3Key, signer: { privateKey: gateway.privateKey, serial: publicKeyId }, now });
  return { body: notify.body, headers: notify.headers, publicKeyId, publicKeyPem: gateway.publicKeyPem, apiV3Key, now, total };
}

/** One way of receiving the notify: verify the signature, decrypt the resource, read the amount. */
export interface V3NotifyContender {
  readonly name: string;
  /** The amount read from one notify (checked against the fixture before timing). */
  once(): number;
  /** Receives the notify `ops` times; returns the summed amounts so the work cannot be optimised away. */
  run(ops: number): number;
}

interface Envelope {
  resource: { ciphertext: string; nonce: string; associated_data: string };
}
interface Plain {
  amount: { total: number };
}

// Each contender writes its own loop so that every timed call site sees one target (see signing/contenders.ts).

/** The floor: crypto.verify over the joined message, JSON.parse, AES-256-GCM with the tag, JSON.parse; no checks at all. */
export function bareV3(fixture: V3NotifyFixture): V3NotifyContender {
  const key: KeyObject = createPublicKey(fixture.publicKeyPem);
  const aesKey = Buffer.from(fixture.apiV3Key);
  const h = fixture.headers;
  const body = fixture.body;
  const once = (): number => {
    const message = Buffer.from(`${h["Wechatpay-Timestamp"]}\n${h["Wechatpay-Nonce"]}\n${body}\n`);
    if (!verify("sha256", message, key, Buffer.from(h["Wechatpay-Signature"], "base64"))) throw new Error("bare: bad signature");
    const { resource } = JSON.parse(body) as Envelope;
    const data = Buffer.from(resource.ciphertext, "base64");
    const decipher = createDecipheriv("aes-256-gcm", aesKey, Buffer.from(resource.nonce));
    decipher.setAuthTag(data.subarray(data.length - 16));
    decipher.setAAD(Buffer.from(resource.associated_data));
    const plain = Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString("utf8");
    return (JSON.parse(plain) as Plain).amount.total;
  };
  return {
    name: "bare node:crypto verify + AES-GCM + JSON.parse",
    once,
    run(ops) {
      let sum = 0;
      for (let i = 0; i < ops; i++) sum += once();
      return sum;
    },
  };
}

/** @pay/core: the whole parseV3Notify (headers, skew, strict JSON twice, zod, typed money). */
export function payCoreV3(fixture: V3NotifyFixture): V3NotifyContender {
  const keys = createV3KeyStore({ publicKeys: [{ id: fixture.publicKeyId, publicKey: fixture.publicKeyPem }] });
  const options = { keys, apiV3Key: fixture.apiV3Key, now: fixture.now };
  const { body, headers } = fixture;
  const once = (): number => {
    const result = parseV3Notify(body, headers, options);
    if (!result.ok || result.value.kind !== "transaction") throw new Error(`@pay/core: ${result.ok ? result.value.kind : result.error.message}`);
    return result.value.transaction.total.amount;
  };
  return {
    name: "@pay/core parseV3Notify",
    once,
    run(ops) {
      let sum = 0;
      for (let i = 0; i < ops; i++) sum += once();
      return sum;
    },
  };
}

/** wechatpay-axios-plugin 0.9.6, as its maintainer's Koa sample does it: Rsa.verify(Formatter.response(...)) + AesGcm.decrypt. */
export function wechatpayAxiosPluginV3(fixture: V3NotifyFixture): V3NotifyContender {
  const key = Rsa.from(fixture.publicKeyPem, Rsa.KEY_TYPE_PUBLIC);
  const h = fixture.headers;
  const body = fixture.body;
  const once = (): number => {
    if (!Rsa.verify(Formatter.response(h["Wechatpay-Timestamp"], h["Wechatpay-Nonce"], body), h["Wechatpay-Signature"], key)) throw new Error("axios-plugin: bad signature");
    const { resource } = JSON.parse(body) as Envelope;
    const plain = Aes.AesGcm.decrypt(resource.ciphertext, fixture.apiV3Key, resource.nonce, resource.associated_data);
    return (JSON.parse(plain) as Plain).amount.total;
  };
  return {
    name: "wechatpay-axios-plugin 0.9.6 Rsa.verify + Aes.AesGcm.decrypt",
    once,
    run(ops) {
      let sum = 0;
      for (let i = 0; i < ops; i++) sum += once();
      return sum;
    },
  };
}
