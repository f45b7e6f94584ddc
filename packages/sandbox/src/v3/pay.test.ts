import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../app.js";
import type { RequestPaymentFields } from "../control/schemas.js";
import { newUnpaidOrder, type SandboxOrder } from "../state/types.js";
import { checkV3Payment } from "./pay.js";

interface PaySignVector {
  readonly appId: string;
  readonly timeStamp: string;
  readonly nonceStr: string;
  readonly package: string;
  readonly signType: string;
  readonly paySign: string;
}

interface SampleKey {
  readonly mchid: string;
  readonly serialNo: string;
  readonly publicKeyPem: string;
}

/** shared/reference/vectors-v3.json, found beside the repository by walking up from here. */
function loadVectorsV3(): { readonly paySign: PaySignVector; readonly merchantSampleKey: SampleKey } {
  const candidates: string[] = [];
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    candidates.push(join(dir, "shared", "reference", "vectors-v3.json"));
    if (dirname(dir) === dir) break;
  }
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) throw new Error("shared/reference/vectors-v3.json not found beside the repository.");
  return JSON.parse(readFileSync(found, "utf8")) as { paySign: PaySignVector; merchantSampleKey: SampleKey };
}

const vectors = loadVectorsV3();
const p = vectors.paySign;
const sample = vectors.merchantSampleKey;
const documented: RequestPaymentFields = { timeStamp: p.timeStamp, nonceStr: p.nonceStr, package: p.package, signType: p.signType, paySign: p.paySign };
const SUB_APP_ID = "wx2421b1c4370ec4sb";

/** An unpaid v3 order of the sample merchant behind the documented prepay_id. */
function orderFor(payAppId: string): SandboxOrder {
  return newUnpaidOrder({
    protocol: "v3",
    mchId: sample.mchid,
    subMchId: undefined,
    appId: p.appId,
    subAppId: payAppId === p.appId ? undefined : payAppId,
    payAppId,
    outTradeNo: "1217752501201407033233368018",
    body: "Image形象店-深圳腾大-QQ公仔",
    attach: undefined,
    totalFee: 100,
    feeType: "CNY",
    signType: undefined,
    notifyUrl: "https://www.weixin.qq.com/wxpay/pay.php",
    openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    subOpenid: undefined,
    fingerprint: "documented",
    createdAt: 0,
    expiresAt: Number.MAX_SAFE_INTEGER,
    prepayId: p.package.replace(/^prepay_id=/, ""),
    prepayExpiresAt: Number.MAX_SAFE_INTEGER,
  });
}

describe("checkV3Payment with the documented paySign (vectors-v3 paySign)", () => {
  let sandbox: Sandbox;
  beforeAll(() => {
    // The sandbox seeded with the official sample merchant's certificate: its public key checks the documented paySign.
    sandbox = createSandbox({
      merchants: [
        {
          appId: p.appId,
          mchId: sample.mchid,
          v3: { apiV3Key: "sampleApiV3KeyForPaySignTests001", merchantCertificate: { serial: sample.serialNo, publicKeyPem: sample.publicKeyPem } },
        },
      ],
    });
  });
  afterAll(() => sandbox.close());

  it("accepts the documented fields, with the appId given or taken from the order", () => {
    expect(checkV3Payment(sandbox.context, orderFor(p.appId), documented)).toEqual({ ok: true });
    expect(checkV3Payment(sandbox.context, orderFor(p.appId), { ...documented, appId: p.appId })).toEqual({ ok: true });
  });

  it.each<[string, Partial<RequestPaymentFields>, string]>([
    ["a signType other than RSA", { signType: "HMAC-SHA256" }, "PAY_SIGN_WRONG_SIGN_TYPE"],
    ["the APP form of package (the bare prepay_id)", { package: p.package.replace(/^prepay_id=/, "") }, "PAY_SIGN_BAD_FIELD"],
    ["a changed nonceStr", { nonceStr: `${p.nonceStr.slice(0, -1)}0` }, "PAY_SIGN_MISMATCH"],
    ["a changed timeStamp", { timeStamp: String(Number(p.timeStamp) + 1) }, "PAY_SIGN_MISMATCH"],
    ["a paySign that is not base64", { paySign: "not base64!" }, "PAY_SIGN_BAD_SIGNATURE"],
  ])("refuses %s with WeChat's message", (_name, change, code) => {
    const check = checkV3Payment(sandbox.context, orderFor(p.appId), { ...documented, ...change });
    expect(check).toEqual({ ok: false, errMsg: "requestPayment:fail 支付验证签名失败", message: expect.stringContaining(code) as unknown });
  });

  it("refuses a paySign over another order's prepay_id, even when it verifies", () => {
    const other = { ...orderFor(p.appId), prepayId: "wx20141027200939abcdefabcdefabcdef0000" };
    expect(checkV3Payment(sandbox.context, other, documented)).toMatchObject({
      ok: false,
      errMsg: "requestPayment:fail 支付验证签名失败",
      message: expect.stringContaining("package") as unknown,
    });
  });

  it("refuses a payment from another app than the order's payer app, even when paySign verifies for the app it names", () => {
    // The order's payer is a sub_openid of SUB_APP_ID, but the documented fields are signed for the main appId.
    const check = checkV3Payment(sandbox.context, orderFor(SUB_APP_ID), { ...documented, appId: p.appId });
    expect(check).toMatchObject({ ok: false, errMsg: "requestPayment:fail 支付验证签名失败", message: expect.stringContaining(SUB_APP_ID) as unknown });
    // Without an appId the client runs as the order's payer app, over which the documented paySign does not verify.
    expect(checkV3Payment(sandbox.context, orderFor(SUB_APP_ID), documented)).toMatchObject({ ok: false, message: expect.stringContaining("PAY_SIGN_MISMATCH") as unknown });
  });

  it("refuses when the fields are missing", () => {
    expect(checkV3Payment(sandbox.context, orderFor(p.appId), undefined)).toMatchObject({ ok: false, errMsg: "requestPayment:fail 支付验证签名失败" });
  });
});
