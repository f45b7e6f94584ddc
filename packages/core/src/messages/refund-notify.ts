import { z } from "zod";
import { camelizeKeys, wireCurrency, wireDashedTime, wireInt, WireStatusSchema, wireString } from "../wire/fields.js";
import { RefundStatusV2Schema } from "./enums.js";

/** The outer refund notify `<xml>`: no sign; authenticity comes from req_info decrypting. */
export const RefundNotifyEnvelopeWireSchema = z.object({
  return_code: WireStatusSchema,
  return_msg: wireString(128).optional(),
  appid: wireString(32).optional(),
  mch_id: wireString(32).optional(),
  sub_appid: wireString(32).optional(),
  sub_mch_id: wireString(32).optional(),
  nonce_str: wireString(32).optional(),
  req_info: z.string().optional(),
});

/** The decrypted `<root>` payload of a refund notify. */
export const RefundNotifyPayloadWireSchema = z.object({
  transaction_id: wireString(32),
  out_trade_no: wireString(32),
  refund_id: wireString(32),
  out_refund_no: wireString(64),
  total_fee: wireInt(),
  settlement_total_fee: wireInt().optional(),
  refund_fee: wireInt(),
  settlement_refund_fee: wireInt().optional(),
  refund_status: RefundStatusV2Schema,
  success_time: wireDashedTime().optional(),
  refund_recv_accout: wireString(64).optional(),
  refund_account: wireString(30).optional(),
  refund_request_source: wireString(30).optional(),
  // Global: currency fields (support for the refund notify on Global is unconfirmed).
  fee_type: wireCurrency().optional(),
  refund_fee_type: wireCurrency().optional(),
  cash_refund_fee: wireInt().optional(),
  cash_refund_fee_type: wireCurrency().optional(),
});

export const RefundNotifyPayloadSchema = RefundNotifyPayloadWireSchema.transform(camelizeKeys);
export type RefundNotifyPayload = z.output<typeof RefundNotifyPayloadSchema>;
