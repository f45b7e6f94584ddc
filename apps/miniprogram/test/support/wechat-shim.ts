import { verifySign } from "@pay/core";
import { createSandboxControlClient, SandboxControlError, type PayOutcome } from "@pay/sandbox/control";
import type { WxRequestOption, WxRequestPaymentOption } from "../../src/utils/wx-port.js";
import type { Platform } from "./mini-runtime.js";

/** What the payer does on the payment sheet, as the sandbox's control API takes it. */
export type PayerAction = PayOutcome;

/** The WeChat client for end-to-end tests: real HTTP, and a payer steered through the sandbox. */
export interface WeChatShim extends Platform {
  /** Queues what the payer does on the next sheets; "success" once the queue is empty. */
  payer(...actions: PayerAction[]): void;
  /** The data fields of every wx.requestPayment call. */
  readonly payments: Record<string, unknown>[];
  /** Every request that went over the network, as "METHOD path -> status". */
  readonly traffic: string[];
  /** Calls the shim refused as the real client would (bad parameters, a bad paySign). */
  readonly refusals: string[];
}

export interface WeChatShimOptions {
  readonly sandboxUrl: string;
  readonly appId: string;
  /**
   * The v2 merchant key, to check an MD5 / HMAC-SHA256 paySign as WeChat's servers do before the sheet opens.
   * Absent for a v3-only merchant: an RSA paySign is checked by the sandbox, which holds the merchant's public key.
   */
  readonly key?: string | undefined;
  /** The sandbox user this phone belongs to: one stable openid per user. */
  readonly user: string;
}

const PAYMENT_FIELDS = ["nonceStr", "package", "paySign", "signType", "timeStamp"];

/**
 * - wx.login: a fresh code from the sandbox's control API, createLoginCode (the API trades it at the
 *   sandbox's /sns/jscode2session, as it would at api.weixin.qq.com);
 * - wx.request: a real HTTP request with fetch; success for any HTTP status with `data` parsed as JSON
 *   when it is JSON, fail with "request:fail ..." when there is no answer, as WeChat does;
 * - wx.requestPayment: takes exactly the five fields, all strings; for MD5 / HMAC-SHA256 checks paySign
 *   with the merchant key (WeChat refuses a bad one); then plays the payer through the control API's pay
 *   with the prepay_id from `package`, and for signType RSA (APIv3) hands the sandbox the five fields as
 *   `payment`, whose paySign it verifies with the merchant certificate's public key. The sandbox marks the
 *   order paid and sends its notify, and its errMsg goes back to success ("requestPayment:ok") or fail
 *   (anything else); a paySign the sandbox refuses is refused here as WeChat refuses it.
 */
export function createWeChatShim(options: WeChatShimOptions): WeChatShim {
  const actions: PayerAction[] = [];
  const payments: Record<string, unknown>[] = [];
  const traffic: string[] = [];
  const refusals: string[] = [];
  const control = createSandboxControlClient({ baseUrl: options.sandboxUrl });

  function refuse(option: WxRequestPaymentOption, reason: string): void {
    refusals.push(reason);
    const result = { errMsg: `requestPayment:fail ${reason}` };
    option.fail(result);
    option.complete(result);
  }

  return {
    payments,
    traffic,
    refusals,
    payer(...next) {
      actions.push(...next);
    },
    login(option) {
      control.createLoginCode({ appid: options.appId, user: options.user }).then(
        (answer) => option.success({ code: answer.code, errMsg: "login:ok" }),
        (error: unknown) => option.fail({ errMsg: `login:fail ${error instanceof Error ? error.message : String(error)}` }),
      );
    },
    request(option: WxRequestOption) {
      const path = new URL(option.url).pathname;
      fetch(option.url, {
        method: option.method,
        headers: { ...option.header },
        ...(option.data === undefined ? {} : { body: JSON.stringify(option.data) }),
        signal: AbortSignal.timeout(option.timeout),
      })
        .then(async (response) => ({ response, text: await response.text() }))
        .then(
          ({ response, text }) => {
            traffic.push(`${option.method} ${path} -> ${response.status}`);
            let data: unknown = text;
            try {
              data = JSON.parse(text);
            } catch {
              // WeChat leaves a body that is not JSON as text.
            }
            option.success({ statusCode: response.status, data, header: Object.fromEntries(response.headers), errMsg: "request:ok" });
          },
          (error: unknown) => {
            traffic.push(`${option.method} ${path} -> no answer`);
            option.fail({ errMsg: `request:fail ${error instanceof Error ? error.message : String(error)}` });
          },
        );
    },
    requestPayment(option: WxRequestPaymentOption) {
      const fields = Object.fromEntries(Object.entries(option).filter(([, value]) => typeof value !== "function"));
      payments.push(fields);
      const names = Object.keys(fields).sort();
      if (names.join() !== PAYMENT_FIELDS.join()) return refuse(option, `parameter error: expected exactly ${PAYMENT_FIELDS.join(", ")}, got ${names.join(", ")}`);
      const wrongType = names.find((name) => typeof fields[name] !== "string");
      if (wrongType !== undefined) return refuse(option, `parameter error: parameter.${wrongType} should be String`);
      const rsa = option.signType === "RSA";
      if (!rsa) {
        if (options.key === undefined) return refuse(option, "支付验证签名失败");
        const signed = verifySign(
          { appId: options.appId, timeStamp: option.timeStamp, nonceStr: option.nonceStr, package: option.package, signType: option.signType, sign: option.paySign },
          { key: options.key, signType: option.signType, inferSignType: true },
        );
        if (!signed.ok) return refuse(option, "支付验证签名失败");
      }
      const prepayId = /^prepay_id=(.+)$/.exec(option.package)?.[1] ?? "";
      const finish = (errMsg: string): void => {
        const result = { errMsg };
        if (result.errMsg === "requestPayment:ok") option.success(result);
        else option.fail(result);
        option.complete(result);
      };
      const payment = { timeStamp: option.timeStamp, nonceStr: option.nonceStr, package: option.package, signType: option.signType, paySign: option.paySign };
      control.pay({ prepay_id: prepayId, outcome: actions.shift() ?? "success", ...(rsa ? { payment } : {}) }).then(
        (answer) => finish(answer.errMsg),
        (error: unknown) => {
          // An RSA paySign the sandbox cannot verify: WeChat refuses the call before the sheet opens.
          if (error instanceof SandboxControlError && error.answer?.error.code === "PAY_SIGN_INVALID") refuse(option, "支付验证签名失败");
          // A refused payment (paid, closed, expired) still gives the page WeChat's errMsg.
          else if (error instanceof SandboxControlError && error.answer !== undefined) finish(error.answer.errMsg ?? "requestPayment:fail system error");
          else refuse(option, `system error (${String(error)})`);
        },
      );
    },
  };
}
