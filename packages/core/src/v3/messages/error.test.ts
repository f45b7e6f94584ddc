import { describe, expect, it } from "vitest";
import { isRetryableV3Error, parseV3Error, V3_ERROR_CODES, type V3ErrorCode } from "./error.js";

describe("v3 error envelope", () => {
  // Reference §1: the captured error bodies with their statuses.
  it.each<[number, string, string, boolean]>([
    [
      400,
      '{"code":"PARAM_ERROR","detail":{"location":"body","value":1},"message":"输入源“/body/out_trade_no”映射到值字段“商户订单号”字符串规则校验失败，字节数 1，小于最小值 6"}',
      "PARAM_ERROR",
      false,
    ],
    [400, '{"code":"PARAM_ERROR","message":"参数错误"}', "PARAM_ERROR", false],
    [401, '{"code":"SIGN_ERROR","detail":{"field":"signature","location":"authorization"},"message":"商户证书序列号有误。"}', "SIGN_ERROR", false],
    [403, '{"code":"NOT_ENOUGH","message":"基本账户余额不足，请充值后重新发起"}', "NOT_ENOUGH", false],
    [404, '{"code":"RESOURCE_NOT_EXISTS","message":"无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。"}', "RESOURCE_NOT_EXISTS", false],
    [500, '{"code":"SYSTEM_ERROR","message":"系统繁忙，请稍后重试"}', "SYSTEM_ERROR", true],
  ])("reads the captured %i %s", (status, body, code, retryable) => {
    const error = parseV3Error(status, body);
    expect(error).toMatchObject({ status, code, retryable });
    expect(error.message).toBe((JSON.parse(body) as { message: string }).message);
  });

  it("keeps detail as data", () => {
    expect(parseV3Error(400, '{"code":"PARAM_ERROR","detail":{"location":"body","value":1},"message":"m"}').detail).toEqual({ location: "body", value: 1 });
    expect(parseV3Error(400, '{"code":"PARAM_ERROR","message":"m"}')).not.toHaveProperty("detail");
  });

  // The retry table: a known code decides by itself, whatever status it came with.
  it.each<[V3ErrorCode, boolean]>([
    ["SYSTEM_ERROR", true],
    ["FREQUENCY_LIMITED", true],
    ["BANK_ERROR", true],
    ["PARAM_ERROR", false],
    ["INVALID_REQUEST", false],
    ["SIGN_ERROR", false],
    ["NOT_ENOUGH", false],
    ["USER_ACCOUNT_ABNORMAL", false],
    ["NO_AUTH", false],
    ["RESOURCE_NOT_EXISTS", false],
    ["ORDER_NOT_EXIST", false],
    ["MCH_NOT_EXISTS", false],
    ["ORDERPAID", false],
    ["ORDER_CLOSED", false],
    ["APPID_MCHID_NOT_MATCH", false],
  ])("%s is retryable: %s", (code, retryable) => {
    expect(V3_ERROR_CODES[code].retryable).toBe(retryable);
    expect(isRetryableV3Error(code, 500)).toBe(retryable);
    expect(isRetryableV3Error(code, 400)).toBe(retryable);
    expect(parseV3Error(V3_ERROR_CODES[code].status, JSON.stringify({ code, message: "m" })).retryable).toBe(retryable);
  });

  it("covers every code in the table above", () => {
    expect(Object.keys(V3_ERROR_CODES)).toHaveLength(15);
  });

  it.each<[number, boolean]>([
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [429, true],
    [500, true],
    [502, true],
    [503, true],
  ])("decides an unknown code by its status %i (retryable: %s)", (status, retryable) => {
    expect(parseV3Error(status, '{"code":"SOMETHING_NEW","message":"m"}')).toMatchObject({ code: "SOMETHING_NEW", retryable });
  });

  it.each<[number, string, boolean]>([
    [502, "<html>Bad Gateway</html>", true],
    [500, "", true],
    [400, '{"message":"no code"}', false],
    [404, "[]", false],
  ])("reads a %i body that is no envelope by its status", (status, body, retryable) => {
    expect(parseV3Error(status, body)).toEqual({ status, code: undefined, message: `HTTP ${status} without an error envelope.`, retryable });
  });
});
