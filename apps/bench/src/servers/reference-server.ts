// The reference servers of the notify benchmark, one per process: `node reference-server.js <kind>`.
//   koa-hello  (a) a bare Koa hello-world
//   koa-body   (b) a Koa POST route that only reads the raw body and replies: the ceiling for any notify handler
//   tenpay     (c) tenpay 2.1.18's own Koa notify middleware, without persistence
//   tenpay-create <sandbox URL> <SQLite file>  the orders benchmark's create-order contender (tenpay-create.ts)
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import Router from "@koa/router";
import { NOTIFY_SUCCESS_REPLY } from "@pay/core";
import Koa from "koa";
import getRawBody from "raw-body";
import Tenpay from "tenpay";
import { MERCHANT, SESSION_SECRET } from "../data/merchant.js";
import { answerMemoryRequests, type ReadyMessage } from "./protocol.js";
import { createTenpayCreateApp } from "./tenpay-create.js";

/** The route every notify contender serves. */
export const NOTIFY_PATH = "/wxpay/notify";
const MAX_BODY_BYTES = 64 * 1024;

type Kind = "koa-hello" | "koa-body" | "tenpay";

function createReferenceApp(kind: Kind): Koa {
  const app = new Koa();
  if (kind === "koa-hello") {
    app.use((ctx) => {
      ctx.body = "Hello World";
    });
    return app;
  }
  const router = new Router();
  if (kind === "koa-body") {
    router.post(NOTIFY_PATH, async (ctx) => {
      await getRawBody(ctx.req, { limit: MAX_BODY_BYTES });
      ctx.type = "text/xml";
      ctx.body = NOTIFY_SUCCESS_REPLY;
    });
  } else {
    // tenpay's README: a body parser hands its middleware the XML text; here the same raw-body read as (b).
    const payment = new Tenpay({ appid: MERCHANT.appId, mchid: MERCHANT.mchId, partnerKey: MERCHANT.key });
    router.post(
      NOTIFY_PATH,
      async (ctx, next) => {
        // What koa-bodyparser would set for text/xml, which Koa's own types do not declare.
        (ctx.request as { body?: unknown }).body = (await getRawBody(ctx.req, { limit: MAX_BODY_BYTES })).toString("utf8");
        await next();
      },
      payment.middleware("pay"),
      (ctx) => {
        (ctx as unknown as { reply(message?: string): void }).reply();
      },
    );
  }
  app.use(router.routes());
  return app;
}

/** The contender's notify_url: never called (the sandbox sends no notify unless asked), but part of every unifiedorder. */
const CONTENDER_NOTIFY_URL = "http://127.0.0.1:9/wxpay/notify";

function createApp(kind: string | undefined, args: readonly string[]): Koa {
  if (kind === "koa-hello" || kind === "koa-body" || kind === "tenpay") return createReferenceApp(kind);
  const [sandboxUrl, dbFile] = args;
  if (kind === "tenpay-create" && sandboxUrl !== undefined && dbFile !== undefined) {
    return createTenpayCreateApp({ sandboxUrl, dbFile, sessionSecret: SESSION_SECRET, merchant: MERCHANT, notifyUrl: CONTENDER_NOTIFY_URL }).app;
  }
  throw new Error(`Unknown reference server ${kind ?? "(none)"} (tenpay-create takes <sandbox URL> <SQLite file>).`);
}

const handle = createApp(process.argv[2], process.argv.slice(3)).callback();
const server = createServer((req, res) => void handle(req, res));
server.listen(0, "127.0.0.1", () => {
  const ready: ReadyMessage = { type: "ready", port: (server.address() as AddressInfo).port };
  process.send?.(ready);
});
answerMemoryRequests();
process.once("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
