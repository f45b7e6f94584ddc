import Router from "@koa/router";
import Koa from "koa";
import { BillControls } from "./bills/bill-controls.js";
import { createCashierRouter } from "./cashier/cashier.js";
import type { SandboxContext } from "./context.js";
import { SANDBOX_CONTROL_PATHS } from "./control/routes.js";
import { createFaultMiddleware, FaultInjector } from "./faults/faults.js";
import { Notifier } from "./notifier/notifier.js";
import { isV2Merchant, resolveOptions, type SandboxOptionsInput, type V2Merchant } from "./options.js";
import { createControlRouter } from "./routes/control.js";
import { downloadBill } from "./routes/download-bill.js";
import { acceptGatewayRequest, type GatewayRequest } from "./routes/gateway-request.js";
import { closeOrder, orderQuery, unifiedOrder } from "./routes/orders.js";
import { applyRefund, refundCertificateGate, refundQuery } from "./routes/refunds.js";
import { jscode2session } from "./routes/sns.js";
import { SandboxStore } from "./state/store.js";
import { createV3Identities } from "./v3/identity.js";
import { createV3NotFound, createV3Router } from "./v3/router.js";

/** A sandbox gateway, not yet listening: the Koa app and the state behind it. */
export interface Sandbox {
  readonly app: Koa;
  readonly context: SandboxContext;
  readonly faults: FaultInjector;
  /** Stops notify retries and releases held requests. */
  close(): void;
}

/** Paths of the real hosts; a client switches to the sandbox by base URL only. */
export const GATEWAY_PATHS = {
  unifiedOrder: "/pay/unifiedorder",
  orderQuery: "/pay/orderquery",
  closeOrder: "/pay/closeorder",
  refund: "/secapi/pay/refund",
  refundQuery: "/pay/refundquery",
  downloadBill: "/pay/downloadbill",
  code2Session: "/sns/jscode2session",
} as const;

/** Builds the sandbox gateway. Options are validated here; a bad one throws before anything runs. */
export function createSandbox(input: SandboxOptionsInput): Sandbox {
  const options = resolveOptions(input);
  const store = new SandboxStore(options.openidSeed);
  const notifier = new Notifier(options.clock, store, options.notify);
  const v3 = createV3Identities(options);
  const context: SandboxContext = {
    options,
    clock: options.clock,
    store,
    notifier,
    bills: new BillControls(),
    v3,
    findMerchant: (mchId, subMchId) => options.merchants.find((m) => m.mchId === mchId && m.subMchId === subMchId),
    findV2Merchant: (mchId, subMchId) => options.merchants.find((m): m is V2Merchant => m.mchId === mchId && m.subMchId === subMchId && isV2Merchant(m)),
  };
  const faults = new FaultInjector(options.latencyMs);
  const app = new Koa();
  app.proxy = false;
  // Routes answer bad input themselves; anything that still throws is a sandbox bug, which Koa logs to stderr.

  const gateway = new Router();
  const endpoint = (path: string, handler: (sandbox: SandboxContext, request: GatewayRequest) => void): void => {
    gateway.all(path, async (ctx) => {
      const request = await acceptGatewayRequest(context, ctx);
      if (request !== undefined) handler(context, request);
    });
  };
  endpoint(GATEWAY_PATHS.unifiedOrder, unifiedOrder);
  endpoint(GATEWAY_PATHS.orderQuery, orderQuery);
  endpoint(GATEWAY_PATHS.closeOrder, closeOrder);
  endpoint(GATEWAY_PATHS.refundQuery, refundQuery);
  endpoint(GATEWAY_PATHS.downloadBill, downloadBill);
  gateway.all(GATEWAY_PATHS.refund, async (ctx) => {
    if (!refundCertificateGate(context, ctx)) return;
    const request = await acceptGatewayRequest(context, ctx);
    if (request !== undefined) applyRefund(context, request);
  });
  gateway.get(GATEWAY_PATHS.code2Session, (ctx) => jscode2session(context, ctx));

  const faultMiddleware = createFaultMiddleware(faults);
  app.use(async function faultsOnGatewayPaths(ctx, next): Promise<void> {
    if (ctx.path.startsWith(SANDBOX_CONTROL_PATHS.prefix)) await next();
    else await faultMiddleware(ctx, next);
  });
  app.use(createV3NotFound(context));
  app.use(gateway.routes());
  app.use(createV3Router(context).routes());
  const control = createControlRouter(context, faults);
  app.use(control.routes());
  app.use(control.allowedMethods());
  const cashier = createCashierRouter(context);
  app.use(cashier.routes());

  return {
    app,
    context,
    faults,
    close() {
      notifier.close();
      faults.releaseAll();
    },
  };
}
