// APIv3 signing contenders: SHA256withRSA for the mini-program paySign and for a request's Authorization header.
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { buildV3RequestPaymentParams, createV3Signer, parseV3Authorization } from "@pay/core";
import { Formatter, Rsa } from "wechatpay-axios-plugin";
import WxPay from "wechatpay-node-v3";
import type { Measurement } from "../harness.js";
import { formatCount, formatRatio, markdownTable, type TargetCheck } from "../markdown.js";
import type { Contender } from "./contenders.js";

/** The target: @pay/core within 1.1x of bare node:crypto (RSA dominates; the rest must not show). */
export const MAX_V3_SLOWDOWN_TO_BARE = 1.1;

/** One v3 workload: the same merchant key and inputs for every contender. */
export interface V3Fixture {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
  readonly keyObject: KeyObject;
  readonly mchId: string;
  readonly serialNo: string;
  readonly appId: string;
  readonly prepayId: string;
  readonly timeStamp: number;
  readonly nonce: string;
  readonly urlPath: string;
  readonly body: string;
}

/** A throwaway RSA-2048 merchant key and a JSAPI order (CJK description), as the API would sign them. */
export function v3Fixture(): V3Fixture {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    keyObject: privateKey,
    mchId: "1900007291",
    serialNo: "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB",
    appId: "wx2421b1c4370ec43b",
    prepayId: "wx201410272009395522657a690389285100",
    timeStamp: 1554208460,
    nonce: "593BEC0C930BF1AFEB40B4A08C8FB242",
    urlPath: "/v3/pay/transactions/jsapi",
    body: JSON.stringify({
      appid: "wxd678efh567hg6787",
      mchid: "1900007291",
      description: "Image形象店-深圳腾大-QQ公仔",
      out_trade_no: "1217752501201407033233368018",
      notify_url: "https://www.weixin.qq.com/wxpay/pay.php",
      amount: { total: 100, currency: "CNY" },
      payer: { openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" },
    }),
  };
}

// Each contender writes its own loop (see contenders.ts). Every contender returns the signature itself, so the
// agreement check compares like with like; the header each builds around it is checked separately.

/** The floor: `crypto.sign` with a cached KeyObject over a message joined once up front. */
export function bareV3(name: string, message: string, key: KeyObject): Contender {
  const bytes = Buffer.from(message, "utf8");
  return {
    name: `bare crypto.sign (${name})`,
    sign: () => sign("sha256", bytes, key).toString("base64"),
    run(ops) {
      let total = 0;
      for (let i = 0; i < ops; i++) total += sign("sha256", bytes, key).toString("base64").length;
      return total;
    },
  };
}

/** @pay/core `buildV3RequestPaymentParams` from the PEM (KeyObject cached per PEM), as the API would call it. */
export function payCorePaySign(f: V3Fixture): Contender {
  const input = { app: { mode: "direct", appId: f.appId } as const, prepayId: f.prepayId, privateKey: f.privateKeyPem, now: f.timeStamp * 1000, nonceStr: f.nonce };
  return {
    name: "@pay/core buildV3RequestPaymentParams",
    sign: () => buildV3RequestPaymentParams(input).paySign,
    run(ops) {
      let total = 0;
      for (let i = 0; i < ops; i++) total += buildV3RequestPaymentParams(input).paySign.length;
      return total;
    },
  };
}

/** @pay/core `createV3Signer(...).signRequest`: message, signature and Authorization header. */
export function payCoreRequest(f: V3Fixture): Contender {
  const signer = createV3Signer({ mchId: f.mchId, serialNo: f.serialNo, privateKey: f.privateKeyPem });
  const request = { method: "POST", urlPath: f.urlPath, body: f.body, now: f.timeStamp * 1000, nonce: f.nonce };
  return {
    name: "@pay/core createV3Signer().signRequest",
    sign: () => signer.signRequest(request).signature,
    run(ops) {
      let total = 0;
      for (let i = 0; i < ops; i++) {
        const signed = signer.signRequest(request);
        total += signed.authorization.length > 0 ? signed.signature.length : 0;
      }
      return total;
    },
  };
}

/** wechatpay-axios-plugin 0.9.6: `Rsa.sign(Formatter.joinedByLineFeed(...), key)` as its README builds paySign, key from `Rsa.from` once. */
export function axiosPaySign(f: V3Fixture): Contender {
  const key = Rsa.from(f.privateKeyPem, "private");
  const ts = String(f.timeStamp);
  const pkg = `prepay_id=${f.prepayId}`;
  return {
    name: "wechatpay-axios-plugin 0.9.6 Rsa.sign",
    sign: () => Rsa.sign(Formatter.joinedByLineFeed(f.appId, ts, f.nonce, pkg), key),
    run(ops) {
      let total = 0;
      for (let i = 0; i < ops; i++) total += Rsa.sign(Formatter.joinedByLineFeed(f.appId, ts, f.nonce, pkg), key).length;
      return total;
    },
  };
}

/** wechatpay-axios-plugin 0.9.6: `Formatter.request` + `Rsa.sign` + `Formatter.authorization`, what its decorator does per request. */
export function axiosRequest(f: V3Fixture): Contender {
  const key = Rsa.from(f.privateKeyPem, "private");
  const signOnce = (): string => Rsa.sign(Formatter.request("POST", f.urlPath, f.timeStamp, f.nonce, f.body), key);
  return {
    name: "wechatpay-axios-plugin 0.9.6 Rsa.sign",
    sign: signOnce,
    run(ops) {
      let total = 0;
      for (let i = 0; i < ops; i++) {
        const signature = Rsa.sign(Formatter.request("POST", f.urlPath, f.timeStamp, f.nonce, f.body), key);
        total += Formatter.authorization(f.mchId, f.nonce, signature, f.timeStamp, f.serialNo).length > 0 ? signature.length : 0;
      }
      return total;
    },
  };
}

// wechatpay-node-v3 keeps the PEM Buffer it is given and signs with `createSign('RSA-SHA256').sign(pem)`, as documented.
class NodeV3 extends WxPay {
  paySign(message: string): string {
    return this.sign(message);
  }
}

function nodeV3(f: V3Fixture): NodeV3 {
  return new NodeV3({ appid: f.appId, mchid: f.mchId, serial_no: f.serialNo, publicKey: Buffer.from(f.publicKeyPem), privateKey: Buffer.from(f.privateKeyPem) });
}

/** wechatpay-node-v3 2.2.1: the paySign its `transactions_jsapi` computes (`sign([appId, ts, nonce, package, ''].join('\n'))`). */
export function nodeV3PaySign(f: V3Fixture): Contender {
  const pay = nodeV3(f);
  const ts = String(f.timeStamp);
  const pkg = `prepay_id=${f.prepayId}`;
  return {
    name: "wechatpay-node-v3 2.2.1",
    sign: () => pay.paySign([f.appId, ts, f.nonce, pkg, ""].join("\n")),
    run(ops) {
      let total = 0;
      for (let i = 0; i < ops; i++) total += pay.paySign([f.appId, ts, f.nonce, pkg, ""].join("\n")).length;
      return total;
    },
  };
}

/** wechatpay-node-v3 2.2.1: `getSignature` + `getAuthorization`, what its `buildAuthorization` does per request. */
export function nodeV3Request(f: V3Fixture): Contender {
  const pay = nodeV3(f);
  const ts = String(f.timeStamp);
  return {
    name: "wechatpay-node-v3 2.2.1",
    sign: () => pay.getSignature("POST", f.nonce, ts, f.urlPath, f.body),
    run(ops) {
      let total = 0;
      for (let i = 0; i < ops; i++) {
        const signature = pay.getSignature("POST", f.nonce, ts, f.urlPath, f.body);
        total += pay.getAuthorization(f.nonce, ts, signature).length > 0 ? signature.length : 0;
      }
      return total;
    },
  };
}

/** The v3 workloads: paySign and a signed POST request, each with its floor and its peers. */
export function v3Workloads(f: V3Fixture): { readonly label: string; readonly contenders: readonly Contender[] }[] {
  const pkg = `prepay_id=${f.prepayId}`;
  const payMessage = `${f.appId}\n${f.timeStamp}\n${f.nonce}\n${pkg}\n`;
  const requestMessage = `POST\n${f.urlPath}\n${f.timeStamp}\n${f.nonce}\n${f.body}\n`;
  return [
    { label: "v3 paySign (RSA)", contenders: [bareV3("paySign", payMessage, f.keyObject), payCorePaySign(f), axiosPaySign(f), nodeV3PaySign(f)] },
    { label: "v3 request signing (RSA)", contenders: [bareV3("request", requestMessage, f.keyObject), payCoreRequest(f), axiosRequest(f), nodeV3Request(f)] },
  ];
}

/** Throws unless the headers the peers build carry the same five values as @pay/core's (pair order differs). */
export function assertV3Headers(f: V3Fixture): void {
  const ours = createV3Signer({ mchId: f.mchId, serialNo: f.serialNo, privateKey: f.privateKeyPem }).signRequest({
    method: "POST",
    urlPath: f.urlPath,
    body: f.body,
    now: f.timeStamp * 1000,
    nonce: f.nonce,
  });
  const key = Rsa.from(f.privateKeyPem, "private");
  const axios = Formatter.authorization(f.mchId, f.nonce, Rsa.sign(Formatter.request("POST", f.urlPath, f.timeStamp, f.nonce, f.body), key), f.timeStamp, f.serialNo);
  const pay = nodeV3(f);
  const ts = String(f.timeStamp);
  const node = pay.getAuthorization(f.nonce, ts, pay.getSignature("POST", f.nonce, ts, f.urlPath, f.body));
  const expected = parseV3Authorization(ours.authorization);
  for (const [name, header] of [
    ["wechatpay-axios-plugin", axios],
    ["wechatpay-node-v3", node],
  ] as const) {
    if (JSON.stringify(parseV3Authorization(header)) !== JSON.stringify(expected)) throw new Error(`${name} builds ${header}, which differs from ${ours.authorization}.`);
  }
}

/** One v3 workload's measurements, in the order bare, @pay/core, peers. */
export interface V3Result {
  readonly label: string;
  readonly bare: Measurement;
  readonly core: Measurement;
  readonly peers: readonly Measurement[];
}

/** A markdown table: contender, median ops/s, ratio to bare. */
export function formatV3Table(result: V3Result): string {
  return markdownTable(
    [`${result.label} contender`, "ops/s (median)", "ratio to bare"],
    [result.bare, result.core, ...result.peers].map((m) => [m.name, formatCount(m.medianOpsPerSec), formatRatio(m.medianOpsPerSec / result.bare.medianOpsPerSec)]),
  );
}

/** @pay/core within 1.1x of bare, and no slower than any peer. */
export function checkV3Targets(result: V3Result): TargetCheck[] {
  const slowdown = result.bare.medianOpsPerSec / result.core.medianOpsPerSec;
  return [
    {
      label: `${result.label}: @pay/core within ${MAX_V3_SLOWDOWN_TO_BARE.toFixed(1)}x of bare (measured ${slowdown.toFixed(2)}x)`,
      pass: slowdown <= MAX_V3_SLOWDOWN_TO_BARE,
    },
    ...result.peers.map((peer) => ({
      label: `${result.label}: @pay/core no slower than ${peer.name} (${(result.core.medianOpsPerSec / peer.medianOpsPerSec).toFixed(2)}x)`,
      pass: result.core.medianOpsPerSec >= peer.medianOpsPerSec,
    })),
  ];
}
