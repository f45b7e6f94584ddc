import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { ApiMetrics } from "./registry.js";

/** What the server serves: one process's metrics, or (API_WORKERS) the primary's sum over its workers. */
export interface MetricsSource {
  readonly registry: { readonly contentType: string };
  text: ApiMetrics["text"];
}

/** The metrics server: GET /metrics only, on its own port (never the public one). */
export interface RunningMetricsServer {
  readonly url: string;
  readonly server: Server;
  stop(): Promise<void>;
}

/** Starts the server of GET /metrics (Prometheus text) on host:port; anything else is a 404. */
export async function startMetricsServer(
  metrics: MetricsSource,
  options: { readonly host: string; readonly port: number; readonly logger: Logger },
): Promise<RunningMetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("Not found: GET /metrics\n");
      return;
    }
    metrics.text().then(
      (text) => {
        res.writeHead(200, { "content-type": metrics.registry.contentType });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      (error: unknown) => {
        // A gauge's database read failed: the scrape fails, the API goes on.
        options.logger.warn({ err: error }, "metrics scrape failed");
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("metrics unavailable\n");
      },
    );
  });
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}/metrics`;
  return {
    url,
    server,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
