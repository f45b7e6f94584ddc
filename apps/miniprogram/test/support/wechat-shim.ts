import { verifySign } from "@pay/core";
import type { WxRequestOption, WxRequestPaymentOption } from "../../src/utils/wx-port.js";
import type { Platform } from "./mini-runtime.js";

/** What the payer does on the payment sheet, as the sandbox's control API takes it. */
export type PayerAction = "success" | "cancel" | "fail";

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
  /** The merchant key, to check paySign as WeChat's servers do before the sheet opens. */
  readonly key: string;
  /** The sandbox user this phone belongs to: one stable openid per user. */
  readonly user: string;
}

const PAYMENT_FIELDS = ["nonceStr", "package", "paySign", "signType", "timeStamp"];

async function postJson(url: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return (await response.json()) as Record<string, unknown>;
}

/**
 * - wx.login: a fresh code from the sandbox's POST /sandbox/login-codes (the API trades it at the
 *   sandbox's /sns/jscode2session, as it would at api.weixin.qq.com);
 * - wx.request: a real HTTP request with fetch; success for any HTTP status with `data` parsed as JSON
 *   when it is JSON, fail with "request:fail ..." when there is no answer, as WeChat does;
 * - wx.requestPayment: takes exactly the five fields, all strings, checks paySign with the merchant
 *   key (WeChat refuses a bad one), then plays the payer through POST /sandbox/pay with the prepay_id
 *   from `package`; the sandbox marks the order paid and sends its notify, and its errMsg goes back
 *   to success ("requestPayment:ok") or fail (anything else).
 */
export function createWeChatShim(options: WeChatShimOptions): WeChatShim {
  const actions: PayerAction[] = [];
  const payments: Record<string, unknown>[] = [];
  const traffic: string[] = [];
  const refusals: string[] = [];

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
      postJson(`${options.sandboxUrl}/sandbox/login-codes`, { appid: options.appId, user: options.user }).then(
        (answer) => (typeof answer.code === "string" ? option.success({ code: answer.code, errMsg: "login:ok" }) : option.fail({ errMsg: `login:fail ${JSON.stringify(answer)}` })),
        (error: unknown) => option.fail({ errMsg: `login:fail ${String(error)}` }),
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
      const signed = verifySign(
        { appId: options.appId, timeStamp: option.timeStamp, nonceStr: option.nonceStr, package: option.package, signType: option.signType, sign: option.paySign },
        { key: options.key, signType: option.signType, inferSignType: true },
      );
      if (!signed.ok) return refuse(option, "支付验证签名失败");
      const prepayId = /^prepay_id=(.+)$/.exec(option.package)?.[1] ?? "";
      postJson(`${options.sandboxUrl}/sandbox/pay`, { prepay_id: prepayId, outcome: actions.shift() ?? "success" }).then(
        (answer) => {
          const result = { errMsg: typeof answer.errMsg === "string" ? answer.errMsg : "requestPayment:fail system error" };
          if (result.errMsg === "requestPayment:ok") option.success(result);
          else option.fail(result);
          option.complete(result);
        },
        (error: unknown) => refuse(option, `system error (${String(error)})`),
      );
    },
  };
}
