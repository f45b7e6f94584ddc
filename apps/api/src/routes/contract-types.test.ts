import type { ApiResponseBody, ApiRouteName, OrderPaymentResponse, RequestPaymentParams } from "@pay/core/contract";
import { describe, expectTypeOf, it } from "vitest";
import type { send } from "./contract-router.js";

/**
 * The API's handlers can only answer through `send`, whose body type is the contract's response for
 * that route; the mini-program's client is typed by the same ApiResponseBody (see its client.test.ts).
 * If either side drifts from the contract, `pnpm typecheck` fails here or there.
 */
describe("the API's answers are the contract's types", () => {
  it("pins send() to ApiResponseBody for every route", () => {
    expectTypeOf<Parameters<typeof send<"createOrder">>[2]>().toEqualTypeOf<ApiResponseBody<"createOrder">>();
    expectTypeOf<Parameters<typeof send<"createOrder">>[2]>().toEqualTypeOf<OrderPaymentResponse>();
    expectTypeOf<Parameters<typeof send<"renewPayment">>[2]["payment"]>().toEqualTypeOf<RequestPaymentParams>();
    expectTypeOf<Parameters<typeof send<ApiRouteName>>[1]>().toEqualTypeOf<ApiRouteName>();
    // A body of another route's shape does not fit.
    expectTypeOf<ApiResponseBody<"getOrder">>().not.toExtend<Parameters<typeof send<"createOrder">>[2]>();
  });
});
