import type {
  AdminActor,
  ApiResponseBody,
  ApiRoutes,
  AuditLogQuerySchema,
  CreateOrderRequestSchema,
  CreateRefundRequestSchema,
  OrderListQuerySchema,
  SessionRequestSchema,
  StaffSignInRequestSchema,
} from "@pay/core/contract";
import { describe, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import type {
  Accepted,
  AcceptedOf,
  AdminCaller,
  AnswerOf,
  AnonymousCaller,
  ApiHandlers,
  RouteHandler,
  RouteInput,
  RouteInputOf,
  StaffSessionControl,
  UserCaller,
} from "./contract-router.js";

/**
 * A handler's input is derived from its route's entry in API_ROUTES: the caller from `auth`, the
 * parsed params, Idempotency-Key, body and query from the route's schemas and rule. Changing the table
 * changes these types, so a handler that no longer fits fails `pnpm typecheck` here or in api.ts.
 */
describe("handler input types follow the contract's route table", () => {
  it("gives a user route the caller's user id, and an admin route none", () => {
    expectTypeOf<RouteInput<"createOrder">["caller"]>().toEqualTypeOf<UserCaller>();
    expectTypeOf<RouteInput<"createOrder">["caller"]["userId"]>().toEqualTypeOf<string>();
    expectTypeOf<RouteInput<"createRefund">["caller"]>().toEqualTypeOf<AdminCaller>();
    expectTypeOf<RouteInput<"createRefund">["caller"]>().not.toHaveProperty("userId");
    expectTypeOf<RouteInput<"createSession">["caller"]>().toEqualTypeOf<AnonymousCaller>();
  });

  it("types body, query, params and Idempotency-Key as the z.output of the table's schemas and rule", () => {
    expectTypeOf<RouteInput<"createSession">>().toEqualTypeOf<{ readonly caller: AnonymousCaller; readonly body: z.output<typeof SessionRequestSchema> }>();
    expectTypeOf<RouteInput<"createOrder">>().toEqualTypeOf<{
      readonly caller: UserCaller;
      readonly idempotencyKey: string | undefined;
      readonly body: z.output<typeof CreateOrderRequestSchema>;
    }>();
    expectTypeOf<RouteInput<"createRefund">>().toEqualTypeOf<{
      readonly caller: AdminCaller;
      readonly params: { id: string };
      readonly idempotencyKey: string;
      readonly body: z.output<typeof CreateRefundRequestSchema>;
    }>();
    // The query's output: `limit` has a default, so the handler always gets a number.
    expectTypeOf<RouteInput<"listOrders">["query"]>().toEqualTypeOf<z.output<typeof OrderListQuerySchema>>();
    expectTypeOf<RouteInput<"listOrders">["query"]["limit"]>().toEqualTypeOf<number>();
    expectTypeOf<RouteInput<"listProducts">>().toEqualTypeOf<{ readonly caller: AnonymousCaller }>();
    expectTypeOf<RouteInput<"renewPayment">>().toEqualTypeOf<{ readonly caller: UserCaller; readonly params: { id: string } }>();
    expectTypeOf<RouteInput<"closeOrder">>().not.toHaveProperty("body");
    expectTypeOf<RouteInput<"getOrder">>().not.toHaveProperty("idempotencyKey");
  });

  it("changes with the table: another auth, key rule or body in a route's entry is another input type", () => {
    type CreateOrder = ApiRoutes["createOrder"];
    expectTypeOf<RouteInputOf<Omit<CreateOrder, "auth"> & { auth: "admin" }>["caller"]>().toEqualTypeOf<AdminCaller>();
    expectTypeOf<RouteInputOf<Omit<CreateOrder, "idempotencyKey"> & { idempotencyKey: "required" }>["idempotencyKey"]>().toEqualTypeOf<string>();
    expectTypeOf<RouteInputOf<Omit<CreateOrder, "idempotencyKey"> & { idempotencyKey: "none" }>>().not.toHaveProperty("idempotencyKey");
    expectTypeOf<RouteInputOf<Omit<CreateOrder, "body"> & { body: typeof CreateRefundRequestSchema }>["body"]>().toEqualTypeOf<z.output<typeof CreateRefundRequestSchema>>();
  });

  it("requires a handler for every route, answering that route's response body", () => {
    expectTypeOf<keyof ApiHandlers>().toEqualTypeOf<keyof ApiRoutes>();
    expectTypeOf<Omit<ApiHandlers, "closeOrder">>().not.toExtend<ApiHandlers>();
    expectTypeOf<ReturnType<RouteHandler<"createOrder">>>().toEqualTypeOf<Promise<ApiResponseBody<"createOrder">> | ApiResponseBody<"createOrder">>();
    // Another route's answer, or a handler that reads input its route does not take, does not fit.
    expectTypeOf<(input: RouteInput<"getOrder">) => Promise<ApiResponseBody<"listOrders">>>().not.toExtend<RouteHandler<"getOrder">>();
    expectTypeOf<(input: RouteInput<"createRefund">) => Promise<ApiResponseBody<"createRefund">>>().not.toExtend<RouteHandler<"createOrder">>();
  });
});

describe("the back office's caller and the console session routes", () => {
  it("gives admin and operator routes the actor (a staff member or ADMIN_TOKEN), never a user id", () => {
    expectTypeOf<AdminCaller>().toEqualTypeOf<{ readonly kind: "admin"; readonly actor: AdminActor }>();
    expectTypeOf<RouteInput<"listAuditLog">["caller"]>().toEqualTypeOf<AdminCaller>();
    expectTypeOf<RouteInput<"runReconciliation">["caller"]>().toEqualTypeOf<AdminCaller>();
  });

  it("hands the cookie capability to the three session routes only", () => {
    expectTypeOf<RouteInput<"staffSignIn">>().toEqualTypeOf<{
      readonly caller: AnonymousCaller;
      readonly body: z.output<typeof StaffSignInRequestSchema>;
      readonly session: StaffSessionControl;
    }>();
    expectTypeOf<RouteInput<"getStaffSession">>().toEqualTypeOf<{ readonly caller: AdminCaller; readonly session: StaffSessionControl }>();
    expectTypeOf<RouteInput<"staffSignOut">>().toEqualTypeOf<{ readonly caller: AdminCaller; readonly session: StaffSessionControl }>();
    expectTypeOf<RouteInput<"listAuditLog">>().toEqualTypeOf<{ readonly caller: AdminCaller; readonly query: z.output<typeof AuditLogQuerySchema> }>();
    expectTypeOf<RouteInput<"createRefund">>().not.toHaveProperty("session");
    expectTypeOf<RouteInput<"createSession">>().not.toHaveProperty("session");
    // The table's own input for the route has none: the capability is the router's, not the contract's.
    expectTypeOf<RouteInputOf<ApiRoutes["staffSignIn"]>>().not.toHaveProperty("session");
  });
});

describe("a 202 answer only where the route declares it", () => {
  it("lets runReconciliation answer accepted(its body), and no route without `accepted`", () => {
    expectTypeOf<AcceptedOf<"runReconciliation">>().toEqualTypeOf<Accepted<ApiResponseBody<"runReconciliation">>>();
    expectTypeOf<AcceptedOf<"getReconciliation">>().toBeNever();
    expectTypeOf<AcceptedOf<"createOrder">>().toBeNever();
    expectTypeOf<(input: RouteInput<"runReconciliation">) => Promise<Accepted<ApiResponseBody<"runReconciliation">>>>().toExtend<RouteHandler<"runReconciliation">>();
    expectTypeOf<(input: RouteInput<"getReconciliation">) => Promise<Accepted<ApiResponseBody<"getReconciliation">>>>().not.toExtend<RouteHandler<"getReconciliation">>();
  });
});

describe("a streamed file answer only where the route declares `produces`", () => {
  it("lets exportAdminOrders answer CSV text whole or as an async iterable of strings, and a JSON route neither", () => {
    expectTypeOf<AnswerOf<"exportAdminOrders">>().toEqualTypeOf<string | AsyncIterable<string>>();
    expectTypeOf<(input: RouteInput<"exportAdminOrders">) => Promise<AsyncIterable<string>>>().toExtend<RouteHandler<"exportAdminOrders">>();
    expectTypeOf<AnswerOf<"listAdminOrders">>().toEqualTypeOf<ApiResponseBody<"listAdminOrders">>();
    expectTypeOf<(input: RouteInput<"listAdminOrders">) => Promise<AsyncIterable<string>>>().not.toExtend<RouteHandler<"listAdminOrders">>();
  });
});
