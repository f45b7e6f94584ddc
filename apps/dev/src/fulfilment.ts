// The shop's side of the order events, as small as a real one can be: a fulfilment receiver that takes the
// API's webhooks (node:http), verifies each one over its raw bytes with @pay/core's verifyWebhook, handles
// every event id once (delivery is at least once) and answers 2xx only for what it verified.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { WebhookEvent } from "@pay/core/contract";
import { verifyWebhook, WEBHOOK_SIGNATURE_HEADER } from "@pay/core/webhooks";
import { explainListenError, type WantedPort } from "./ports.js";

/** The path deliveries are POSTed to. */
export const FULFILMENT_PATH = "/webhooks";
/** A delivery signed longer ago than this is refused (a replayed capture). */
export const FULFILMENT_TOLERANCE_SECONDS = 300;
/** Events are about 1 kB; anything past this is refused unread. */
const MAX_BODY_BYTES = 64 * 1024;

export interface FulfilmentOptions {
  /** The endpoint's secret: WEBHOOK_SECRET as the API was given it. */
  readonly secret: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: WantedPort;
  /** Where each line ("fulfilment: order.paid ... verified") goes. */
  readonly output: (line: string) => void;
  /** The clock the signature's age is checked against. */
  readonly now?: () => Date;
}

/** A running receiver. */
export interface FulfilmentReceiver {
  /** Where it listens: WEBHOOK_URL for the API. */
  readonly url: string;
  /** Every event verified, the first delivery of each id, in arrival order. */
  events(): readonly WebhookEvent[];
  /** Deliveries refused (bad signature, too old, not an event), by code. */
  refusals(): readonly string[];
  stop(): Promise<void>;
}

/** One line per event, as the shop's fulfilment would log it. */
export function describeEvent(event: WebhookEvent): string {
  if ("order" in event.data) return `${event.type} ${event.data.order.id} (${event.data.order.status})`;
  return `${event.type} ${event.data.refund.id} for order ${event.data.refund.orderId} (${event.data.refund.status})`;
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.once("end", () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

function answer(res: ServerResponse, status: number, body: Record<string, string>): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** Starts the receiver; a busy port fails with the flag that moves it. */
export async function startFulfilmentReceiver(options: FulfilmentOptions): Promise<FulfilmentReceiver> {
  const now = options.now ?? (() => new Date());
  const seen = new Set<string>();
  const events: WebhookEvent[] = [];
  const refusals: string[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== "POST" || new URL(req.url ?? "/", "http://receiver").pathname !== FULFILMENT_PATH) return answer(res, 404, { error: `POST ${FULFILMENT_PATH} only` });
    const body = await readBody(req);
    if (body === undefined) {
      refusals.push("too_large");
      options.output(`fulfilment: refused a delivery of more than ${MAX_BODY_BYTES} bytes`);
      return answer(res, 413, { error: "too_large" });
    }
    const header = req.headers[WEBHOOK_SIGNATURE_HEADER.toLowerCase()];
    const verified = verifyWebhook(body, (Array.isArray(header) ? header[0] : header) ?? "", [options.secret], { now: now(), toleranceSeconds: FULFILMENT_TOLERANCE_SECONDS });
    if (!verified.ok) {
      refusals.push(verified.error.code);
      options.output(`fulfilment: refused a delivery (${verified.error.code}: ${verified.error.message})`);
      return answer(res, 400, { error: verified.error.code });
    }
    const event = verified.value;
    if (seen.has(event.id)) {
      options.output(`fulfilment: ${event.type} ${event.id} again, already handled`);
      return answer(res, 200, { received: event.id });
    }
    seen.add(event.id);
    events.push(event);
    options.output(`fulfilment: ${describeEvent(event)} verified (${event.id})`);
    return answer(res, 200, { received: event.id });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) answer(res, 400, { error: "unreadable" });
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", (error) => reject(explainListenError(error, options.host, options.port)));
    server.listen(options.port.port, options.host, () => resolve((server.address() as AddressInfo).port));
  });
  return {
    url: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}${FULFILMENT_PATH}`,
    events: () => events,
    refusals: () => refusals,
    stop() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
