import type { Context } from "koa";
import getRawBody from "raw-body";
import { ApiError } from "../errors.js";
import { DEFAULT_HTTP_LIMITS } from "./limits.js";

export const MAX_JSON_BODY_BYTES = 16 * 1024;

/** How a JSON body is read. */
export interface JsonBodyOptions {
  /** The whole body must arrive within this once reading starts (HTTP_BODY_TIMEOUT_MS); default DEFAULT_HTTP_LIMITS.jsonBodyTimeoutMs. */
  readonly timeoutMs?: number | undefined;
}

/**
 * Reads the raw body up to `limit` bytes: "too-large" when the client sends more, "aborted" when it went
 * away, and "too-slow" when `timeoutMs` is given and the whole body has not arrived within it (a
 * slow-drip body would otherwise hold the request until the server's requestTimeout).
 */
export function readRaw(ctx: Context, limit: number, timeoutMs?: number): Promise<Buffer | "too-large" | "aborted" | "too-slow"> {
  // One promise and one timer per body: this runs for every notify, and a race of promises cost more.
  return new Promise((resolve) => {
    let settled = false;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            settled = true;
            // Stop reading: the answer is sent with Connection: close, which ends the socket and the pending read.
            ctx.req.pause();
            resolve("too-slow");
          }, timeoutMs);
    // raw-body's typings always give the callback an error; it gets null when the body was read.
    getRawBody(ctx.req, { limit }, (error: getRawBody.RawBodyError | null | undefined, body: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error === null || error === undefined) resolve(body);
      else resolve((error as { type?: string }).type === "entity.too.large" ? "too-large" : "aborted");
    });
  });
}

/**
 * Reads a JSON request body (application/json, at most 16 KiB, within the body deadline); an empty body
 * reads as undefined. A larger body is refused as soon as its Content-Length (or the bytes so far) says
 * so, without reading the rest; a body still arriving at the deadline is refused (400) and the connection
 * closes after the answer, which ends the slow upload.
 */
export async function readJsonBody(ctx: Context, options: JsonBodyOptions = {}): Promise<unknown> {
  // Koa types it as a number; it is undefined when the request has no Content-Length.
  const length = ctx.request.length as number | undefined;
  const hasBody = (length !== undefined && length > 0) || ctx.get("transfer-encoding") !== "";
  if (!hasBody) return undefined;
  if (!ctx.is("application/json")) throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "The body must be JSON (Content-Type: application/json).");
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_LIMITS.jsonBodyTimeoutMs;
  // A Content-Length over the cap is refused before a byte of the body is read.
  const raw = length !== undefined && length > MAX_JSON_BODY_BYTES ? "too-large" : await readRaw(ctx, MAX_JSON_BODY_BYTES, timeoutMs);
  if (raw === "too-large") {
    // The rest is never read: the connection closes after the answer instead of draining it.
    ctx.set("Connection", "close");
    throw new ApiError("PAYLOAD_TOO_LARGE", `The body is larger than ${MAX_JSON_BODY_BYTES} bytes.`);
  }
  if (raw === "too-slow") {
    ctx.set("Connection", "close");
    throw new ApiError("VALIDATION_FAILED", `The body did not arrive within ${timeoutMs} ms.`, { field: "body" });
  }
  if (raw === "aborted") throw new ApiError("VALIDATION_FAILED", "The body was cut off.");
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString("utf8")) as unknown;
  } catch {
    throw new ApiError("VALIDATION_FAILED", "The body is not valid JSON.");
  }
}

/** For a POST that takes no body: an empty body or `{}` passes, anything else is a 400 naming `body`. */
export async function readNoBody(ctx: Context, options: JsonBodyOptions = {}): Promise<void> {
  const body = await readJsonBody(ctx, options);
  if (body !== undefined && !(typeof body === "object" && body !== null && Object.keys(body).length === 0)) {
    throw new ApiError("VALIDATION_FAILED", "body: this endpoint takes no body.", { field: "body" });
  }
}
