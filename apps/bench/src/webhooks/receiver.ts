// The bench's fast webhook receiver: reads the raw body, verifies the signature over those bytes, dedupes by
// event id and answers 200 at once; nothing else. Its process is not the API's, so its work is not in the
// API's CPU figures.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DeliveryLedger } from "./ledger.js";

/** At most this much of a body is read (an event is about 1 kB). */
const MAX_BODY_BYTES = 64 * 1024;

/** What verifying one delivery gave: the event's id and createdAt, or the code of the refusal. */
export type VerifiedDelivery = { readonly ok: true; readonly id: string; readonly createdAt: string } | { readonly ok: false; readonly code: string };

/** Checks a delivery's raw body against its Pay-Signature header (verifyWebhook in the receiver process). */
export type DeliveryVerifier = (rawBody: Buffer, signatureHeader: string | undefined) => VerifiedDelivery;

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

/** The request handler: POST with a verified event -> 200 (also for a repeat), anything else -> 4xx. */
export function createReceiverHandler(verify: DeliveryVerifier, ledger: DeliveryLedger, now: () => number = Date.now): (req: IncomingMessage, res: ServerResponse) => void {
  const answer = (res: ServerResponse, status: number, text: string): void => {
    res.writeHead(status, { "content-type": "text/plain" });
    res.end(text);
  };
  return function receiveWebhook(req, res) {
    if (req.method !== "POST") return answer(res, 405, "POST only");
    readBody(req).then(
      (body) => {
        const receivedAt = now();
        if (body === undefined) {
          ledger.refuse();
          return answer(res, 413, "too large");
        }
        const header = req.headers["pay-signature"];
        const verified = verify(body, Array.isArray(header) ? header[0] : header);
        if (!verified.ok) {
          ledger.refuse();
          return answer(res, 400, verified.code);
        }
        ledger.record(verified.id, verified.createdAt, receivedAt);
        return answer(res, 200, "ok");
      },
      () => answer(res, 400, "unreadable body"),
    );
  };
}
