// The shop's fulfilment system, as far as the console suites need one: a real HTTP server on 127.0.0.1 that
// verifies each webhook delivery's signature over the raw body (with the verifier receivers use), records it
// and answers 204. (apps/api/test/support/webhook-receiver.ts is the API's richer one; a package's
// TypeScript project cannot include another package's test files, so this is its small twin.)
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyWebhook, WEBHOOK_EVENT_ID_HEADER, WEBHOOK_EVENT_TYPE_HEADER, WEBHOOK_SIGNATURE_HEADER } from "@pay/core/webhooks";

/** One delivery as received. */
export interface ReceivedWebhook {
  readonly eventId: string;
  readonly eventType: string;
  /** The signature matched the raw body under the receiver's secret. */
  readonly verified: boolean;
  readonly body: string;
}

export interface WebhookReceiver {
  readonly url: string;
  /** Every request, in arrival order. */
  readonly requests: readonly ReceivedWebhook[];
  /** Resolves once `predicate` holds (checked every 20 ms), or fails after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name.toLowerCase()];
  return typeof value === "string" ? value : "";
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const requests: ReceivedWebhook[] = [];
  const server = createServer((req, res) => {
    readBody(req).then(
      (body) => {
        const verified = verifyWebhook(body, header(req, WEBHOOK_SIGNATURE_HEADER), [secret], { now: Date.now() }).ok;
        requests.push({ eventId: header(req, WEBHOOK_EVENT_ID_HEADER), eventType: header(req, WEBHOOK_EVENT_TYPE_HEADER), verified, body: body.toString("utf8") });
        res.writeHead(verified ? 204 : 400).end();
      },
      () => req.socket.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`,
    requests,
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`the webhook receiver's condition did not hold within ${timeoutMs} ms (${requests.length} requests)`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
