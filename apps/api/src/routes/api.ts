import type Router from "@koa/router";
import { listActiveProducts } from "../db/products.js";
import type { ServiceContext } from "../services/context.js";
import { closeOwnOrder, createOrder, ensurePayment, findOwnOrder, getOrder, listOrders } from "../services/orders.js";
import { createRefund } from "../services/refunds.js";
import { signIn } from "../services/sessions.js";
import { orderView } from "../services/views.js";
import { createContractRouter, type ApiHandlers } from "./contract-router.js";

/** What each contract route does, given its parsed input; auth, parsing and statuses are the contract router's. */
export function createApiHandlers(services: ServiceContext): ApiHandlers {
  const { feeType } = services.config.merchant;
  return {
    createSession: ({ body }) => signIn(services, body.code),
    listProducts: async () => ({
      products: (await listActiveProducts(services.db, feeType)).map((p) => ({ id: p.id, name: p.name, price: p.price, currency: feeType })),
    }),
    createOrder: ({ caller, body, idempotencyKey }) => createOrder(services, caller.userId, body, idempotencyKey),
    listOrders: ({ caller, query }) => listOrders(services, caller.userId, query),
    getOrder: async ({ caller, params }) => ({ order: orderView(await getOrder(services, caller.userId, params.id)) }),
    renewPayment: async ({ caller, params }) => ensurePayment(services, await findOwnOrder(services, caller.userId, params.id)),
    closeOrder: async ({ caller, params }) => ({ order: orderView(await closeOwnOrder(services, caller.userId, params.id)) }),
    createRefund: ({ params, body, idempotencyKey }) => createRefund(services, params.id, body, idempotencyKey),
  };
}

/** The JSON API the mini-program and admins call, registered from the @pay/core contract's route table. */
export function createApiRouter(services: ServiceContext): Router {
  return createContractRouter(createApiHandlers(services), { tokens: services.tokens, clock: services.clock, adminToken: services.config.adminToken });
}
