import { Agent, request } from "undici";

/** How long one delivery may take, connect to last byte read. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** The most of a receiver's answer that is read; the rest is dropped with the connection. */
export const WEBHOOK_MAX_ANSWER_BYTES = 64 * 1024;

/** One POST of an event to an endpoint. */
export interface WebhookRequest {
  readonly url: string;
  /** The event's JSON, exactly as signed. */
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * What one attempt came to. Success is any 2xx status; everything else (another status, a redirect,
 * a timeout, a refused or reset connection) is a failure to retry. `error` starts with the kind of
 * failure and holds the start of the receiver's answer (control characters as spaces, at most 512
 * characters) for the delivery's record.
 */
export type WebhookAttempt =
  | { readonly ok: true; readonly status: number; readonly durationMs: number }
  | { readonly ok: false; readonly status: number | undefined; readonly error: string; readonly durationMs: number };

export interface WebhookSender {
  send(request: WebhookRequest): Promise<WebhookAttempt>;
  /** Closes the connection pool. */
  close(): Promise<void>;
}

export interface WebhookSenderOptions {
  readonly timeoutMs?: number | undefined;
  readonly maxAnswerBytes?: number | undefined;
}

const NOTE_CHARS = 512;

function note(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters out of a stored note
  return text.replace(/[\u0000-\u001f\u007f]/g, " ").slice(0, NOTE_CHARS);
}

/**
 * Sends webhook POSTs: redirects are never followed (a 3xx is a failure), an attempt is abandoned after
 * `timeoutMs`, and at most `maxAnswerBytes` of an answer are read before the connection is dropped, so a
 * receiver answering 10 MB or dripping bytes costs nothing beyond that.
 */
export function createWebhookSender(options: WebhookSenderOptions = {}): WebhookSender {
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const maxAnswerBytes = options.maxAnswerBytes ?? WEBHOOK_MAX_ANSWER_BYTES;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new RangeError(`timeoutMs must be a positive integer, got ${timeoutMs}`);
  if (!Number.isInteger(maxAnswerBytes) || maxAnswerBytes < 0) throw new RangeError(`maxAnswerBytes must be a non-negative integer, got ${maxAnswerBytes}`);
  const agent = new Agent({ headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connectTimeout: timeoutMs, keepAliveTimeout: 4_000 });

  async function send(webhook: WebhookRequest): Promise<WebhookAttempt> {
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    const signal = AbortSignal.timeout(timeoutMs);
    let status: number | undefined;
    try {
      const response = await request(webhook.url, {
        method: "POST",
        dispatcher: agent,
        signal,
        headers: { "content-type": "application/json; charset=utf-8", "user-agent": "pay-webhooks/1", ...webhook.headers },
        body: webhook.body,
      });
      status = response.statusCode;
      const answer = await readAtMost(response.body, maxAnswerBytes);
      if (status >= 200 && status < 300) return { ok: true, status, durationMs: elapsed() };
      const kind = status >= 300 && status < 400 ? `redirect to ${note(String(response.headers.location ?? "nowhere"))} not followed` : `HTTP ${status}`;
      return { ok: false, status, error: answer === "" ? kind : `${kind}: ${note(answer)}`, durationMs: elapsed() };
    } catch (error) {
      if (signal.aborted) return { ok: false, status, error: `no complete answer within ${timeoutMs} ms`, durationMs: elapsed() };
      const code = (error as { code?: unknown } | null)?.code;
      const message = error instanceof Error ? error.message : String(error);
      return { ok: false, status, error: note(typeof code === "string" ? `${code}: ${message}` : message), durationMs: elapsed() };
    }
  }

  return { send, close: () => agent.close() };
}

/** Reads up to `limit` bytes of a body as text, then drops the rest (and the connection with it when there is more). */
async function readAtMost(body: AsyncIterable<Uint8Array> & { destroy(error?: Error): unknown }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = Buffer.from(chunk);
    if (size + buffer.length >= limit) {
      chunks.push(buffer.subarray(0, limit - size));
      body.destroy();
      break;
    }
    chunks.push(buffer);
    size += buffer.length;
  }
  return Buffer.concat(chunks).toString("utf8");
}
