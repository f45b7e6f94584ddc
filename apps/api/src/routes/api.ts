import Router from "@koa/router";
import {
  API_ROUTES,
  CreateOrderRequestSchema,
  CreateRefundRequestSchema,
  OrderListQuerySchema,
  OrderSchema,
  SessionRequestSchema,
  type ApiResponseBody,
  type ApiRouteName,
} from "@pay/core/contract";
import type { Context } from "koa";
import { z } from "zod";
import { ApiError } from "../errors.js";
import { readJsonBody } from "../http/body.js";
import { parseInput } from "../http/validate.js";
import { requireAdmin, requireUser } from "../middleware/auth.js";
import type { ServiceContext } from "../services/context.js";
import { closeOwnOrder, createOrder, getOrder, listOrders, renewPayment } from "../services/orders.js";
import { listProducts } from "../services/products.js";
import { createRefund } from "../services/refunds.js";
import { signIn } from "../services/sessions.js";
import { unwrap } from "./outcomes.js";

const OrderParamsSchema = z.object({ id: OrderSchema.shape.id });
const IdempotencyKeySchema = z.string().regex(/^[\x21-\x7e]{1,64}$/, "must be 1-64 printable ASCII characters");

/** Sends a route's answer with the status the contract gives it. */
export function send<N extends ApiRouteName>(ctx: Context, route: N, body: ApiResponseBody<N>): void {
  ctx.status = API_ROUTES[route].status;
  ctx.body = body;
}

function orderId(ctx: Context): string {
  return parseInput(OrderParamsSchema, { id: (ctx.params as Record<string, string | undefined>).id }, "params").id;
}

function idempotencyKey(ctx: Context, required: boolean): string | undefined {
  const header = ctx.get("idempotency-key");
  if (header === "") {
    if (required) throw new ApiError("VALIDATION_FAILED", "Idempotency-Key: this request needs one, so that a retry never refunds twice.", { field: "Idempotency-Key" });
    return undefined;
  }
  const parsed = IdempotencyKeySchema.safeParse(header);
  if (!parsed.success) throw new ApiError("VALIDATION_FAILED", `Idempotency-Key: ${parsed.error.issues[0]?.message ?? "invalid"}`, { field: "Idempotency-Key" });
  return parsed.data;
}

async function noBody(ctx: Context): Promise<void> {
  const body = await readJsonBody(ctx);
  if (body !== undefined && !(typeof body === "object" && body !== null && Object.keys(body).length === 0)) {
    throw new ApiError("VALIDATION_FAILED", "body: this endpoint takes no body.", { field: "body" });
  }
}

/** The JSON API the mini-program and admins call; every shape comes from the @pay/core contract. */
export function createApiRouter(services: ServiceContext): Router {
  const router = new Router();
  const user = (ctx: Context): string => requireUser(ctx, services.tokens, services.clock);

  router.post(API_ROUTES.createSession.path, async (ctx) => {
    const body = parseInput(SessionRequestSchema, await readJsonBody(ctx), "body");
    send(ctx, "createSession", unwrap(await signIn(services, body.code)));
  });

  router.get(API_ROUTES.listProducts.path, async (ctx) => {
    send(ctx, "listProducts", await listProducts(services));
  });

  router.post(API_ROUTES.createOrder.path, async (ctx) => {
    const userId = user(ctx);
    const key = idempotencyKey(ctx, false);
    const body = parseInput(CreateOrderRequestSchema, await readJsonBody(ctx), "body");
    send(ctx, "createOrder", unwrap(await createOrder(services, userId, body, key)));
  });

  router.get(API_ROUTES.listOrders.path, async (ctx) => {
    const userId = user(ctx);
    const query = parseInput(OrderListQuerySchema, { ...ctx.query }, "query");
    send(ctx, "listOrders", unwrap(await listOrders(services, userId, query)));
  });

  router.get(API_ROUTES.getOrder.path, async (ctx) => {
    const userId = user(ctx);
    send(ctx, "getOrder", { order: unwrap(await getOrder(services, userId, orderId(ctx))) });
  });

  router.post(API_ROUTES.renewPayment.path, async (ctx) => {
    const userId = user(ctx);
    const id = orderId(ctx);
    await noBody(ctx);
    send(ctx, "renewPayment", unwrap(await renewPayment(services, userId, id)));
  });

  router.post(API_ROUTES.closeOrder.path, async (ctx) => {
    const userId = user(ctx);
    const id = orderId(ctx);
    await noBody(ctx);
    send(ctx, "closeOrder", { order: unwrap(await closeOwnOrder(services, userId, id)) });
  });

  router.post(API_ROUTES.createRefund.path, async (ctx) => {
    requireAdmin(ctx, services.config.adminToken);
    const id = orderId(ctx);
    const key = idempotencyKey(ctx, true) ?? "";
    const body = parseInput(CreateRefundRequestSchema, await readJsonBody(ctx), "body");
    send(ctx, "createRefund", unwrap(await createRefund(services, id, body, key)));
  });

  return router;
}
