import Router from "@koa/router";
import { pingDatabase } from "../db/health.js";
import type { ServiceContext } from "../services/context.js";

/** What /readyz asks of the process's lifecycle (src/shutdown.ts). */
export interface Readiness {
  /** True once a SIGTERM/SIGINT has started the drain: /readyz answers 503 so a load balancer stops sending. */
  readonly draining: boolean;
}

/** Liveness (the process answers) and readiness (the database answers, and the process is not draining). */
export function createHealthRouter(services: ServiceContext, readiness?: Readiness): Router {
  const router = new Router();
  router.get("/healthz", (ctx) => {
    ctx.body = { status: "ok" };
  });
  router.get("/readyz", async (ctx) => {
    // Draining: everything is still served, but a load balancer should send nothing new here.
    if (readiness?.draining === true) {
      ctx.status = 503;
      ctx.body = { status: "draining", database: services.dialect };
      return;
    }
    try {
      await pingDatabase(services.db);
      ctx.body = { status: "ready", database: services.dialect };
    } catch (error) {
      services.logger.warn({ err: error }, "readiness check failed");
      ctx.status = 503;
      ctx.body = { status: "unavailable", database: services.dialect };
    }
  });
  return router;
}
