// A webhook receiver for tests: a real HTTP server on 127.0.0.1 that verifies each delivery's signature
// over the raw body, records it, and answers as the test tells it to (well, or in one of the hostile
// ways a real receiver fails: 500, never answering, a reset, a redirect, 10 MB, down).
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WEBHOOK_EVENT_ID_HEADER, WEBHOOK_EVENT_TYPE_HEADER, WEBHOOK_SIGNATURE_HEADER, webhookSignature } from "@pay/core/webhooks";

/** How the receiver answers a request. */
export type ReceiverAnswer =
  | { readonly kind: "status"; readonly status: number }
  /** Holds the request open for `ms`, then answers `status`. */
  | { readonly kind: "delay"; readonly ms: number; readonly status: number }
  /** Reads the body, then never answers (until the receiver closes). */
  | { readonly kind: "hang" }
  /** Reads the body, then destroys the connection without a response. */
  | { readonly kind: "reset" }
  | { readonly kind: "redirect"; readonly location: string }
  /** A status with `bytes` of body. */
  | { readonly kind: "huge"; readonly status: number; readonly bytes: number };

export const ANSWER_OK: ReceiverAnswer = { kind: "status", status: 204 };

/** One request as received. */
export interface ReceivedWebhook {
  readonly eventId: string;
  readonly eventType: string;
  readonly body: string;
  readonly signatureHeader: string;
  /** The header carried a v1 that one of the receiver's secrets produces for its t and the raw body. */
  readonly verified: boolean;
  /** The header's t (unix seconds). */
  readonly timestamp: number | undefined;
  /** How many v1 values the header carried (two during a secret rotation). */
  readonly signatures: number;
  readonly answer: ReceiverAnswer["kind"];
  /** The status answered (or about to be, for a delayed answer), if any. */
  readonly status: number | undefined;
  /** When it arrived (performance.now()). */
  readonly at: number;
}

export interface WebhookReceiverOptions {
  /** The secrets a signature may be made with. */
  readonly secrets: readonly string[];
  /** How to answer each request; ANSWER_OK by default. Change it later with `answerWith`. */
  readonly answer?: ReceiverAnswer | ((request: ReceivedWebhook, index: number) => ReceiverAnswer) | undefined;
  /** A port to listen on (to come back on the same one); an ephemeral one by default. */
  readonly port?: number | undefined;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order. */
  readonly requests: readonly ReceivedWebhook[];
  /** The requests answered 2xx with a verified signature: what the receiver counts as received. */
  accepted(): ReceivedWebhook[];
  /** How many times each event id was accepted. */
  acceptedCounts(): Map<string, number>;
  answerWith(answer: ReceiverAnswer | ((request: ReceivedWebhook, index: number) => ReceiverAnswer)): void;
  /** Resolves once `predicate` holds (checked on each request and every 20 ms), or fails after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  /** Stops listening and drops every connection (the receiver is down); `listen` brings it back on the same port. */
  down(): Promise<void>;
  listen(): Promise<void>;
  close(): Promise<void>;
}

/** Parses `t=<unix s>,v1=<hex>[,v1=<hex>]`. */
function parseSignatureHeader(header: string): { timestamp: number | undefined; signatures: string[] } {
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const [key, value] = part.split("=", 2);
    if (key === "t" && value !== undefined && /^\d+$/.test(value)) timestamp = Number(value);
    if (key === "v1" && value !== undefined) signatures.push(value);
  }
  return { timestamp, signatures };
}

function verify(header: string, body: Buffer, secrets: readonly string[]): { verified: boolean; timestamp: number | undefined; signatures: number } {
  const { timestamp, signatures } = parseSignatureHeader(header);
  if (timestamp === undefined) return { verified: false, timestamp, signatures: signatures.length };
  const verified = secrets.some((secret) => {
    const expected = Buffer.from(webhookSignature(secret, timestamp, body), "utf8");
    return signatures.some((signature) => {
      const given = Buffer.from(signature, "utf8");
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  });
  return { verified, timestamp, signatures: signatures.length };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Starts a receiver on 127.0.0.1. */
export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const requests: ReceivedWebhook[] = [];
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();
  let answer = options.answer ?? ANSWER_OK;
  let port = options.port ?? 0;
  let server: Server | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const header = String(req.headers[WEBHOOK_SIGNATURE_HEADER.toLowerCase()] ?? "");
    const base = {
      eventId: String(req.headers[WEBHOOK_EVENT_ID_HEADER.toLowerCase()] ?? ""),
      eventType: String(req.headers[WEBHOOK_EVENT_TYPE_HEADER.toLowerCase()] ?? ""),
      body: body.toString("utf8"),
      signatureHeader: header,
      ...verify(header, body, options.secrets),
    };
    const index = requests.length;
    const chosen = typeof answer === "function" ? answer({ ...base, answer: "status", status: undefined, at: performance.now() }, index) : answer;
    const status = chosen.kind === "status" || chosen.kind === "huge" || chosen.kind === "delay" ? chosen.status : chosen.kind === "redirect" ? 302 : undefined;
    requests.push({ ...base, answer: chosen.kind, status, at: performance.now() });
    for (const wake of waiters) wake();
    switch (chosen.kind) {
      case "status":
        res.writeHead(chosen.status, { "content-type": "text/plain" }).end(chosen.status < 300 ? "" : `status ${chosen.status}`);
        return;
      case "delay":
        setTimeout(() => {
          if (!res.destroyed) res.writeHead(chosen.status).end();
        }, chosen.ms);
        return;
      case "hang":
        return;
      case "reset":
        req.socket.destroy();
        return;
      case "redirect":
        res.writeHead(302, { location: chosen.location }).end();
        return;
      case "huge": {
        res.writeHead(chosen.status, { "content-type": "text/plain", "content-length": String(chosen.bytes) });
        const chunk = Buffer.alloc(64 * 1024, "x");
        let left = chosen.bytes;
        const pump = (): void => {
          while (left > 0) {
            const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
            left -= piece.length;
            if (!res.write(piece)) {
              res.once("drain", pump);
              return;
            }
          }
          res.end();
        };
        res.on("error", () => undefined);
        pump();
        return;
      }
    }
  };

  const listen = async (): Promise<void> => {
    const created = createServer((req, res) => void handle(req, res).catch(() => req.socket.destroy()));
    created.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve, reject) => {
      created.once("error", reject);
      created.listen(port, "127.0.0.1", () => resolve());
    });
    port = (created.address() as AddressInfo).port;
    server = created;
  };

  const down = async (): Promise<void> => {
    const current = server;
    server = undefined;
    if (current === undefined) return;
    const closed = new Promise<void>((resolve) => current.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  await listen();
  const accepted = (): ReceivedWebhook[] => requests.filter((request) => request.verified && request.status !== undefined && request.status >= 200 && request.status < 300);
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    port,
    requests,
    accepted,
    acceptedCounts() {
      const counts = new Map<string, number>();
      for (const request of accepted()) counts.set(request.eventId, (counts.get(request.eventId) ?? 0) + 1);
      return counts;
    },
    answerWith(next) {
      answer = next;
    },
    async waitFor(predicate, timeoutMs = 15_000) {
      if (predicate()) return;
      await new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!predicate()) return;
          clearTimeout(timer);
          clearInterval(ticker);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          clearInterval(ticker);
          waiters.delete(check);
          reject(new Error(`the receiver's condition did not hold within ${timeoutMs} ms (${requests.length} requests)`));
        }, timeoutMs);
        const ticker = setInterval(check, 20);
        waiters.add(check);
      });
    },
    down,
    listen,
    close: down,
  };
}
