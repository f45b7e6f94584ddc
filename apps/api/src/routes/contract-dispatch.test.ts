import type { AddressInfo } from "node:net";
import Router, { type RouterMiddleware } from "@koa/router";
import Koa from "koa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contractRoutes } from "./contract-router.js";

/** The same routes behind @koa/router alone and behind contractRoutes' direct dispatch: every request must get the same answer. */
function routes(): Router {
  const router = new Router();
  const answer =
    (name: string): RouterMiddleware =>
    (ctx) => {
      ctx.body = { route: name, params: { ...ctx.params } };
    };
  router.register("/api/orders", ["GET"], [answer("list")]);
  router.register("/api/orders", ["POST"], [answer("create")]);
  router.register("/api/orders/:id", ["GET"], [answer("get")]);
  router.register("/api/orders/:id/close", ["POST"], [answer("close")]);
  router.register("/api/admin/orders/:id", ["GET"], [answer("admin-get")]);
  router.register("/api/admin/exports/orders", ["GET"], [answer("export")]);
  router.register("/api/admin/:kind/orders", ["GET"], [answer("shadowed-by-export")]);
  router.register("/api/pairs/:a/:b", ["GET", "DELETE"], [answer("pair")]);
  return router;
}

async function listen(app: Koa): Promise<{ url: string; close: () => Promise<void> }> {
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function appWith(dispatch: (router: Router) => Koa.Middleware): Koa {
  const app = new Koa();
  app.silent = true;
  const router = routes();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      ctx.status = (error as { status?: number }).status ?? 500;
      ctx.body = { thrown: ctx.status };
    }
  });
  app.use(dispatch(router));
  app.use(router.allowedMethods({ throw: true }));
  return app;
}

describe("contractRoutes: the direct dispatch answers exactly as @koa/router", () => {
  let plain: { url: string; close: () => Promise<void> };
  let direct: { url: string; close: () => Promise<void> };
  beforeAll(async () => {
    plain = await listen(appWith((router) => router.routes() as unknown as Koa.Middleware));
    direct = await listen(appWith((router) => contractRoutes(router)));
  });
  afterAll(async () => {
    await plain.close();
    await direct.close();
  });

  const paths = [
    "/api/orders",
    "/api/orders/",
    "/API/Orders",
    "/api/orders//",
    "/api/orders/o_1",
    "/api/orders/o_1/",
    "/api/orders/O_1",
    "/api/ORDERS/o%201",
    "/api/orders/%E0%A4%A",
    "/api/orders/a%2Fb",
    "/api/orders/o_1/close",
    "/api/orders/o_1/close/x",
    "/api/orders//close",
    "/api/admin/orders/o_9",
    "/api/admin/exports/orders",
    "/api/admin/Exports/orders",
    "/api/admin/imports/orders",
    "/api/pairs/x/y",
    "/api/pairs/x/",
    "/api/pairs//y",
    "/api/nothing",
    "/",
    "//api/orders",
  ];
  const methods = ["GET", "HEAD", "POST", "DELETE", "PUT", "OPTIONS"];

  it("for every method and path (statuses, bodies, Allow)", async () => {
    let compared = 0;
    for (const path of paths) {
      for (const method of methods) {
        const [a, b] = await Promise.all([plain, direct].map((server) => fetch(`${server.url}${path}`, { method })));
        if (a === undefined || b === undefined) throw new Error("no answer");
        const seen = { status: b.status, allow: b.headers.get("allow"), body: await b.text() };
        expect(seen, `${method} ${path}`).toEqual({ status: a.status, allow: a.headers.get("allow"), body: await a.text() });
        compared++;
      }
    }
    expect(compared).toBe(paths.length * methods.length);
  });

  it("takes the route, its decoded parameters and the first of two matching routes", async () => {
    const get = await fetch(`${direct.url}/API/orders/o%201/`);
    expect(await get.json()).toEqual({ route: "get", params: { id: "o 1" } });
    const exported = await fetch(`${direct.url}/api/admin/exports/orders`);
    expect(await exported.json()).toEqual({ route: "export", params: {} });
    const pair = await fetch(`${direct.url}/api/pairs/x/y`, { method: "DELETE" });
    expect(await pair.json()).toEqual({ route: "pair", params: { a: "x", b: "y" } });
  });

  it("leaves a router it cannot match exactly (a wildcard path) to the router alone", async () => {
    const router = new Router();
    router.register("/api/files/*rest", ["GET"], [(ctx) => (ctx.body = { route: "files" })]);
    router.register("/api/plain", ["GET"], [(ctx) => (ctx.body = { route: "plain" })]);
    const app = new Koa();
    app.use(contractRoutes(router));
    const server = await listen(app);
    try {
      expect(await (await fetch(`${server.url}/api/files/a/b`)).json()).toEqual({ route: "files" });
      expect(await (await fetch(`${server.url}/api/plain`)).json()).toEqual({ route: "plain" });
    } finally {
      await server.close();
    }
  });
});
