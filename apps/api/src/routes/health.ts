import Router from "@koa/router";
import { pingDatabase } from "../db/health.js";
import type { ServiceContext } from "../services/context.js";

/** Liveness (the process answers) and readiness (the database answers). */
export function createHealthRouter(services: ServiceContext): Router {
  const router = new Router();
  router.get("/healthz", (ctx) => {
    ctx.body = { status: "ok" };
  });
  router.get("/readyz", async (ctx) => {
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
