import { z } from "zod";
import type { Result } from "../result.js";
import { camelizeKeys, wireString } from "../wire/fields.js";
import { buildRequestFields, checkPartnerIds, parseRequestFields, REQUEST_COMMON_SHAPE, requestText, type ParseRequestErrorCode } from "./request.js";
import { ResponseEnvelopeWireSchema } from "./response.js";

/**
 * A closeorder request (§5.2): out_trade_no only. The gateway refuses to close an order in its
 * first 5 minutes; ORDERPAID means it was paid and must be treated as paid.
 */
export const CloseOrderRequestSchema = z
  .object({
    ...REQUEST_COMMON_SHAPE,
    outTradeNo: requestText(32),
  })
  .superRefine(checkPartnerIds);
export type CloseOrderRequest = z.input<typeof CloseOrderRequestSchema>;

/** Validates a closeorder request and maps it to the snake_case record to sign (throws INVALID_FIELD). */
export function buildCloseOrderFields(request: CloseOrderRequest): Record<string, string | number> {
  return buildRequestFields(CloseOrderRequestSchema, request);
}

/** Parses received closeorder fields (the simulator's side) into the typed request. */
export function parseCloseOrderRequest(raw: Readonly<Record<string, string>>): Result<CloseOrderRequest, ParseRequestErrorCode> {
  return parseRequestFields(CloseOrderRequestSchema, raw, []);
}

/** A verified closeorder answer with result_code=SUCCESS: the envelope plus `result_msg`. */
export const CloseOrderResponseWireSchema = ResponseEnvelopeWireSchema.extend({
  result_msg: wireString(128).optional(),
});

export const CloseOrderResponseSchema = CloseOrderResponseWireSchema.transform(camelizeKeys);
export type CloseOrderResponse = z.output<typeof CloseOrderResponseSchema>;
