import { z } from "zod";

/** The paySign algorithms: MD5 and HMAC-SHA256 for APIv2 orders, RSA (SHA256withRSA) for APIv3 orders. */
export const PAY_SIGN_TYPES = ["MD5", "HMAC-SHA256", "RSA"] as const;

const HEX_SIGN = /^(?:[0-9A-F]{32}|[0-9A-F]{64})$/;
// Standard padded base64 of an RSA signature: 2048 bits is 344 characters, 4096 bits 684.
const RSA_SIGN = /^(?:[A-Za-z0-9+/]{4}){42,170}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Exactly the five fields `wx.requestPayment` takes, all strings. appId is signed into paySign
 * but not passed. The server builds it; the mini-program passes it through untouched.
 * paySign is 32 (MD5) or 64 (HMAC-SHA256) uppercase hex, or base64 of the RSA signature when signType is RSA. The hex
 * check is the one v2 always had (either length for either v2 type), so no value valid before is refused now.
 */
export const RequestPaymentParamsSchema = z
  .object({
    timeStamp: z.string().regex(/^[0-9]{1,32}$/, "timeStamp must be Unix seconds as a string"),
    nonceStr: z.string().min(1).max(32),
    package: z
      .string()
      .regex(/^prepay_id=[\x21-\x7e]{1,64}$/, 'package must be "prepay_id=<id>"')
      .max(128),
    signType: z.enum(PAY_SIGN_TYPES),
    paySign: z
      .string()
      .max(684)
      .regex(/^(?:[0-9A-F]{32}|[0-9A-F]{64}|[A-Za-z0-9+/]{168,}={0,2})$/, "paySign must be 32 or 64 uppercase hex characters, or the base64 RSA signature"),
  })
  .strict()
  .superRefine((params, ctx) => {
    const fits = params.signType === "RSA" ? RSA_SIGN.test(params.paySign) : HEX_SIGN.test(params.paySign);
    if (!fits) {
      ctx.addIssue({
        code: "custom",
        path: ["paySign"],
        message: params.signType === "RSA" ? "paySign must be the base64 RSA signature for signType RSA" : `paySign must be uppercase hex for signType ${params.signType}`,
      });
    }
  });

export type RequestPaymentParams = z.infer<typeof RequestPaymentParamsSchema>;
