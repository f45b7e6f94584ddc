import { expectTypeOf, test } from "vitest";
import type { RequestPaymentParams } from "./payment.js";
import type { ApiRequestBody, ApiResponseBody } from "./routes.js";
import type { Order } from "./order.js";

test("the payment params are exactly the five wx.requestPayment strings", () => {
  expectTypeOf<RequestPaymentParams>().toEqualTypeOf<{
    timeStamp: string;
    nonceStr: string;
    package: string;
    signType: "MD5" | "HMAC-SHA256";
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
