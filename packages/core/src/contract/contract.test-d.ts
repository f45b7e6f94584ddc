import { expectTypeOf, test } from "vitest";
import type { RequestPaymentParams } from "./payment.js";
import type { ApiPathParams, ApiRequestBody, ApiRequestQuery, ApiResponseBody, PathParamNames } from "./routes.js";
import type { Order } from "./order.js";
import type { ReconciliationClass, ReconciliationItem, ReconciliationRunSummary } from "./reconciliation.js";

test("the payment params are exactly the five wx.requestPayment strings", () => {
  expectTypeOf<RequestPaymentParams>().toEqualTypeOf<{
    timeStamp: string;
    nonceStr: string;
    package: string;
    signType: "MD5" | "HMAC-SHA256" | "RSA";
    paySign: string;
  }>();
  // The payment object must be assignable to what miniprogram-api-typings' wx.requestPayment takes.
  expectTypeOf<RequestPaymentParams>().toExtend<{ timeStamp: string; nonceStr: string; package: string; paySign: string }>();
});

test("route request and response types come from the route table", () => {
  expectTypeOf<ApiRequestBody<"createOrder">>().toEqualTypeOf<{ items: { productId: string; quantity: number }[] }>();
  expectTypeOf<ApiResponseBody<"createOrder">>().toEqualTypeOf<{ order: Order; payment: RequestPaymentParams }>();
  expectTypeOf<ApiRequestBody<"getOrder">>().toEqualTypeOf<undefined>();
  expectTypeOf<Order["status"]>().toEqualTypeOf<"pending" | "paid" | "closed" | "refunded">();
  expectTypeOf<Order["totalFee"]>().toEqualTypeOf<number>();
});

test("path params and queries come from the route table too", () => {
  expectTypeOf<ApiPathParams<"getOrder">>().toEqualTypeOf<{ id: string }>();
  expectTypeOf<ApiPathParams<"createRefund">>().toEqualTypeOf<{ id: string }>();
  expectTypeOf<ApiPathParams<"listOrders">>().toEqualTypeOf<undefined>();
  expectTypeOf<ApiRequestQuery<"getOrder">>().toEqualTypeOf<undefined>();
  expectTypeOf<ApiRequestQuery<"listOrders">>().toHaveProperty("cursor").toEqualTypeOf<string | undefined>();
  expectTypeOf<PathParamNames<"/api/admin/orders/:id/refunds">>().toEqualTypeOf<"id">();
  expectTypeOf<PathParamNames<"/api/a/:x/b/:y">>().toEqualTypeOf<"x" | "y">();
  expectTypeOf<PathParamNames<"/api/orders">>().toEqualTypeOf<never>();
});

test("the reconciliation routes take a day and answer runs, or one run with a page of items", () => {
  expectTypeOf<ApiPathParams<"getReconciliation">>().toEqualTypeOf<{ date: string }>();
  expectTypeOf<ApiPathParams<"runReconciliation">>().toEqualTypeOf<{ date: string }>();
  expectTypeOf<ApiRequestBody<"runReconciliation">>().toEqualTypeOf<undefined>();
  expectTypeOf<ApiRequestQuery<"listReconciliations">>().toEqualTypeOf<{ from?: string | undefined; to?: string | undefined }>();
  expectTypeOf<ApiRequestQuery<"getReconciliation">>().toHaveProperty("class").toEqualTypeOf<ReconciliationClass | undefined>();
  expectTypeOf<ApiResponseBody<"listReconciliations">>().toEqualTypeOf<{ runs: ReconciliationRunSummary[] }>();
  expectTypeOf<ApiResponseBody<"getReconciliation">>().toEqualTypeOf<{ run: ReconciliationRunSummary; items: ReconciliationItem[]; nextCursor: string | null }>();
  expectTypeOf<ApiResponseBody<"runReconciliation">>().toEqualTypeOf<ApiResponseBody<"getReconciliation">>();
});
