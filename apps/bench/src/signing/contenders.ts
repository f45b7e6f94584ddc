import { createHash, createHmac } from "node:crypto";
import { signParams } from "@pay/core";
import Tenpay from "tenpay";
import { Hash } from "wechatpay-axios-plugin";
import type { SignFixture } from "./fixture.js";

/** One way of producing a v2 signature for a fixture. */
export interface Contender {
  readonly name: string;
  /** One signature, used to check that every contender agrees before timing. */
  sign(): string;
  /** Signs `ops` times; returns the summed signature lengths so the work cannot be optimised away. */
  run(ops: number): number;
}

// Each contender writes its own loop so that every timed call site sees a single target and
// V8 can inline it; a shared loop calling `sign()` would be megamorphic and blur the differences.

/** The floor: node:crypto over the string to sign, joined once up front. */
export function bareCrypto(fixture: SignFixture): Contender {
  const joined = `${Object.keys(fixture.params)
    .sort()
    .map((name) => `${name}=${String(fixture.params[name])}`)
    .join("&")}&key=${fixture.key}`;
  const { key } = fixture;
  if (fixture.signType === "MD5") {
    return {
      name: "bare node:crypto",
      sign: () => createHash("md5").update(joined, "utf8").digest("hex").toUpperCase(),
      run(ops) {
        let total = 0;
        for (let i = 0; i < ops; i++) total += createHash("md5").update(joined, "utf8").digest("hex").toUpperCase().length;
        return total;
      },
    };
  }
  return {
    name: "bare node:crypto",
    sign: () => createHmac("sha256", key).update(joined, "utf8").digest("hex").toUpperCase(),
    run(ops) {
      let total = 0;
      for (let i = 0; i < ops; i++) total += createHmac("sha256", key).update(joined, "utf8").digest("hex").toUpperCase().length;
      return total;
    },
  };
}

/** @pay/core `signParams` from the params object, as the API signs a request. */
export function payCore(fixture: SignFixture): Contender {
  const { params } = fixture;
  const options = { key: fixture.key, signType: fixture.signType };
  return {
    name: "@pay/core signParams",
    sign: () => signParams(params, options),
    run(ops) {
      let total = 0;
      for (let i = 0; i < ops; i++) total += signParams(params, options).length;
      return total;
    },
  };
}

/** tenpay 2.1.18: `Payment#_getSign(params, sign_type)`, the call its `_request` makes. */
export function tenpay(fixture: SignFixture): Contender {
  const payment = new Tenpay({ appid: String(fixture.params.appid), mchid: String(fixture.params.mch_id), partnerKey: fixture.key });
  // tenpay joins with `key + '=' + value`, so a numeric total_fee is taken as it is.
  const params = { ...fixture.params };
  const { signType } = fixture;
  return {
    name: "tenpay 2.1.18",
    sign: () => payment._getSign(params, signType),
    run(ops) {
      let total = 0;
      for (let i = 0; i < ops; i++) total += payment._getSign(params, signType).length;
      return total;
    },
  };
}

/** wechatpay-axios-plugin 0.9.6: `Hash.sign(type, data, key)`, its v2 request signer. */
export function wechatpayAxiosPlugin(fixture: SignFixture): Contender {
  // Its ksort + `[k, v].join('=')` stringify a numeric total_fee the same way.
  const params = { ...fixture.params };
  const { key, signType } = fixture;
  return {
    name: "wechatpay-axios-plugin 0.9.6",
    sign: () => Hash.sign(signType, params, key),
    run(ops) {
      let total = 0;
      for (let i = 0; i < ops; i++) total += Hash.sign(signType, params, key).length;
      return total;
    },
  };
}
