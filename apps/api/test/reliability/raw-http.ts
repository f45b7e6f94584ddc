// A client that sends exactly the bytes a hostile peer would, over a plain TCP socket: no content type
// unless given, bodies of any size, bodies dripped a few bytes at a time, invalid UTF-8. It reads the
// answer even when the server closes the connection while the body is still being written (an HTTP
// client library would report only the write error). Loopback only.
import { connect } from "node:net";

export interface RawRequest {
  readonly method?: string;
  readonly path: string;
  /** Sent as given; nothing is added except Host, Connection: close (unless given) and Content-Length (or chunked framing when dripping). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /**
   * Sends the body `bytes` at a time every `everyMs` instead of at once, and stops as soon as an answer
   * starts (a client writing on into a closed connection gets a reset, which can swallow the answer).
   * `framing` chunked (the default) or content-length; `endless` keeps sending spaces after the body, so
   * it never finishes: a slow-drip (slowloris) body.
   */
  readonly drip?: { readonly bytes: number; readonly everyMs: number; readonly framing?: "chunked" | "content-length"; readonly endless?: boolean };
  /** Gives up (and reports no status) after this long. */
  readonly timeoutMs: number;
}

export interface RawAnswer {
  /** undefined when no answer came (the connection closed first, or timeoutMs passed). */
  readonly status: number | undefined;
  readonly body: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** From connecting to the end of the answer (or the failure). */
  readonly ms: number;
  readonly error: string | undefined;
}

interface Parsed {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly complete: boolean;
}

/** Reads an HTTP/1.1 answer from the bytes received so far; undefined until the head is complete. */
function parseAnswer(received: Buffer, closed: boolean): Parsed | undefined {
  const end = received.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const [statusLine = "", ...lines] = received.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = received.subarray(end + 4);
  const length = headers["content-length"];
  if (length !== undefined) return { status, headers, body: rest.subarray(0, Number(length)), complete: rest.length >= Number(length) };
  return { status, headers, body: rest, complete: closed };
}

/** Sends one request on its own connection to `baseUrl` (which must be loopback) and reads the answer. */
export function rawRequest(baseUrl: string, options: RawRequest): Promise<RawAnswer> {
  const url = new URL(options.path, baseUrl);
  if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost") throw new Error(`rawRequest: ${url.hostname} is not loopback`);
  const body = typeof options.body === "string" ? Buffer.from(options.body, "utf8") : options.body;
  const head = [`${options.method ?? "POST"} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
  if (!Object.keys(options.headers ?? {}).some((name) => name.toLowerCase() === "connection")) head.push("Connection: close");
  for (const [name, value] of Object.entries(options.headers ?? {})) head.push(`${name}: ${value}`);
  const chunked = options.drip !== undefined && options.drip.framing !== "content-length";
  if (chunked) head.push("Transfer-Encoding: chunked");
  else if (body !== undefined) head.push(`Content-Length: ${body.length}`);
  const started = performance.now();

  return new Promise<RawAnswer>((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    let settled = false;
    let writeError: string | undefined;
    let dripTimer: NodeJS.Timeout | undefined;
    let answered = false;
    const finish = (closed: boolean, failure?: string): void => {
      const parsed = parseAnswer(Buffer.concat(chunks), closed);
      if (!closed && failure === undefined && parsed?.complete !== true) return;
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearInterval(dripTimer);
      socket.destroy();
      resolve({
        status: parsed?.status,
        body: parsed?.body.toString("utf8") ?? "",
        headers: parsed?.headers ?? {},
        ms: Math.round(performance.now() - started),
        error: parsed === undefined ? (failure ?? writeError ?? "the connection closed without an answer") : undefined,
      });
    };
    const deadline = setTimeout(() => finish(false, `no answer within ${options.timeoutMs} ms`), options.timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      // The server has answered: a client stops sending then (writing on would make it reset the connection).
      answered = true;
      clearInterval(dripTimer);
      chunks.push(chunk);
      finish(false);
    });
    socket.on("close", () => finish(true));
    // Writes failing after the server answered and hung up are expected for oversized and dripped bodies.
    socket.on("error", (error) => {
      writeError = error.message;
    });
    socket.write(`${head.join("\r\n")}\r\n\r\n`);
    if (options.drip !== undefined) {
      const { bytes, everyMs, endless = false } = options.drip;
      const source = body ?? Buffer.alloc(0);
      let offset = 0;
      const writeNext = (): void => {
        if (answered || socket.destroyed || socket.writableNeedDrain) return;
        if (offset >= source.length && !endless) {
          clearInterval(dripTimer);
          if (chunked) socket.write("0\r\n\r\n");
          return;
        }
        // Past the end of an endless body, keep dripping spaces.
        const chunk = offset < source.length ? source.subarray(offset, offset + bytes) : Buffer.alloc(bytes, 0x20);
        offset += bytes;
        socket.write(chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]) : chunk);
      };
      // Each write waits for the event loop's I/O phase, so an answer already received is read first.
      dripTimer = setInterval(() => setImmediate(writeNext), everyMs);
    } else if (body !== undefined) {
      socket.write(body);
    }
  });
}
