// A loopback HTTP proxy that forwards each request to a target chosen by path and keeps both sides of
// every exchange: what the sandbox sent the API (notifies), what the API sent the gateway, and the answers.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly requestHeaders: Readonly<Record<string, string | string[] | undefined>>;
  readonly requestBody: string;
  readonly status: number;
  readonly responseHeaders: Readonly<Record<string, string>>;
  readonly responseBody: string;
}

export interface RecordingProxy {
  readonly url: string;
  readonly exchanges: Exchange[];
  close(): Promise<void>;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Starts the proxy on 127.0.0.1. `targetFor(path)` names the base URL a request goes to (read on each
 * request, so it may point at something started later); undefined answers 502.
 */
export async function startRecordingProxy(targetFor: (path: string) => string | undefined): Promise<RecordingProxy> {
  const exchanges: Exchange[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const path = req.url ?? "/";
      const target = targetFor(path);
      if (target === undefined) {
        res.writeHead(502).end();
        return;
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string" && !["host", "connection", "content-length", "transfer-encoding"].includes(name)) headers[name] = value;
      }
      try {
        const response = await fetch(`${target}${path}`, { method: req.method ?? "GET", headers, ...(body.length > 0 ? { body } : {}), redirect: "manual" });
        const answer = Buffer.from(await response.arrayBuffer());
        const responseHeaders: Record<string, string> = {};
        response.headers.forEach((value, name) => {
          if (!["content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"].includes(name)) responseHeaders[name] = value;
        });
        exchanges.push({
          method: req.method ?? "GET",
          path,
          requestHeaders: req.headers,
          requestBody: body.toString("utf8"),
          status: response.status,
          responseHeaders,
          responseBody: answer.toString("utf8"),
        });
        res.writeHead(response.status, responseHeaders).end(answer);
      } catch {
        // The target is down (a held fault, a stopped server): the caller sees a dead connection, as it would.
        res.destroy();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exchanges,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
