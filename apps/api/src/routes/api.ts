import type Router from "@koa/router";
import type { ServiceContext } from "../services/context.js";
import { exportAdminOrders } from "../services/console/export.js";
import { getAdminOrder, listAdminOrders } from "../services/console/orders.js";
import { getOverview } from "../services/console/overview.js";
import { closeOwnOrder, createOrder, getOrder, listOrders, renewPayment } from "../services/orders.js";
import { listProducts } from "../services/products.js";
import { createRefund } from "../services/refunds.js";
import { DEFAULT_RECONCILIATION_WAIT_MS, getReconciliation, listReconciliations, runReconciliationNow } from "../services/reconciliation/admin.js";
import { signIn } from "../services/sessions.js";
import {
  createEndpoint,
  getEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  replayFailedDeliveries,
  replayWebhookEvent,
  rotateWebhookSecret,
  updateWebhookEndpoint,
} from "../services/webhooks/endpoints.js";
import { accepted, createContractRouter, type ApiHandlers } from "./contract-router.js";
import { unwrap } from "./outcomes.js";

/**
 * What each contract route does, given its parsed input: a service call whose outcome `unwrap` turns
 * into the answer or an ApiError. Auth, parsing and statuses are the contract router's.
 */
export function createApiHandlers(services: ServiceContext, options: ApiRouterOptions = { reconciliationWaitMs: DEFAULT_RECONCILIATION_WAIT_MS }): ApiHandlers {
  return {
    createSession: async ({ body }) => unwrap(await signIn(services, body.code)),
    listProducts: () => listProducts(services),
    createOrder: async ({ caller, body, idempotencyKey }) => unwrap(await createOrder(services, caller.userId, body, idempotencyKey)),
    listOrders: async ({ caller, query }) => unwrap(await listOrders(services, caller.userId, query)),
    getOrder: async ({ caller, params }) => ({ order: unwrap(await getOrder(services, caller.userId, params.id)) }),
    renewPayment: async ({ caller, params }) => unwrap(await renewPayment(services, caller.userId, params.id)),
    closeOrder: async ({ caller, params }) => ({ order: unwrap(await closeOwnOrder(services, caller.userId, params.id)) }),
    createRefund: async ({ params, body, idempotencyKey }) => unwrap(await createRefund(services, params.id, body, idempotencyKey)),
    createWebhookEndpoint: async ({ body }) => unwrap(await createEndpoint(services, body)),
    listWebhookEndpoints: async () => ({ endpoints: await listWebhookEndpoints(services) }),
    getWebhookEndpoint: async ({ params }) => unwrap(await getEndpoint(services, params.id)),
    updateWebhookEndpoint: async ({ params, body }) => ({ endpoint: unwrap(await updateWebhookEndpoint(services, params.id, body)) }),
    rotateWebhookSecret: async ({ params, body }) => unwrap(await rotateWebhookSecret(services, params.id, body.previousSecretExpiresInSeconds)),
    listWebhookDeliveries: async ({ params, query }) => unwrap(await listWebhookDeliveries(services, params.id, query)),
    replayWebhookEvent: async ({ params, body }) => unwrap(await replayWebhookEvent(services, params.id, body.endpointId)),
    replayFailedWebhookDeliveries: async ({ body }) => unwrap(await replayFailedDeliveries(services, body)),
    listReconciliations: async ({ query }) => unwrap(await listReconciliations(services, query)),
    getReconciliation: async ({ params, query }) => unwrap(await getReconciliation(services, params.date, query)),
    runReconciliation: async ({ params }) => {
      const answer = unwrap(await runReconciliationNow(services, params.date, options.reconciliationWaitMs));
      return answer.accepted ? accepted(answer.detail) : answer.detail;
    },
    // TODO(issue 19, staff helper)
    staffSignIn: notBuilt,
    // TODO(issue 19, staff helper)
    getStaffSession: notBuilt,
    // TODO(issue 19, staff helper)
    staffSignOut: notBuilt,
    getOverview: ({ query }) => getOverview(services, query),
    listAdminOrders: async ({ query }) => unwrap(await listAdminOrders(services, query)),
    exportAdminOrders: async ({ query }) => unwrap(await exportAdminOrders(services, query)),
    getAdminOrder: async ({ params }) => unwrap(await getAdminOrder(services, params.id)),

    // TODO(issue 19, staff helper)
    listAuditLog: notBuilt,
  };
}

// TODO(issue 19): removed once every console route is built.
function notBuilt(): never {
  throw new Error("not built yet");
}

/** How the API routes behave beyond the contract. */
export interface ApiRouterOptions {
  /** How long `POST /api/admin/reconciliations/:date/run` waits for the run before answering 202 (default 10 s). */
  readonly reconciliationWaitMs: number;
}

/** The JSON API the mini-program and admins call, registered from the @pay/core contract's route table. */
export function createApiRouter(services: ServiceContext, options?: ApiRouterOptions): Router {
  return createContractRouter(createApiHandlers(services, options), { tokens: services.tokens, clock: services.clock, adminToken: services.config.adminToken });
}
