import { z } from "zod";

/**
 * Exactly the five fields `wx.requestPayment` takes, all strings. appId is signed into paySign
 * but not passed. The server builds it; the mini-program passes it through untouched.
 */
export const RequestPaymentParamsSchema = z
  .object({
    timeStamp: z.string().regex(/^[0-9]{1,32}$/, "timeStamp must be Unix seconds as a string"),
    nonceStr: z.string().min(1).max(32),
    package: z
      .string()
      .regex(/^prepay_id=[\x21-\x7e]{1,64}$/, 'package must be "prepay_id=<id>"')
      .max(128),
    signType: z.enum(["MD5", "HMAC-SHA256"]),
    paySign: z.string().regex(/^(?:[0-9A-F]{32}|[0-9A-F]{64})$/, "paySign must be 32 or 64 uppercase hex characters"),
  })
  .strict();

export type RequestPaymentParams = z.infer<typeof RequestPaymentParamsSchema>;
