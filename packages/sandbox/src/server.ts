import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createSandbox, type Sandbox } from "./app.js";
import type { SandboxOptionsInput } from "./options.js";

/** TLS material for serving HTTPS: refunds then check client certificates issued by `ca`. */
export interface SandboxTls {
  readonly key: string;
  readonly cert: string;
  /** The CA that issues merchant client certificates. */
  readonly ca: string;
}

export interface StartSandboxOptions extends SandboxOptionsInput {
  /** Defaults to 127.0.0.1: the sandbox is a local tool. */
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly tls?: SandboxTls;
}

/** A listening sandbox. */
export interface RunningSandbox extends Sandbox {
  /** Base URL, e.g. `http://127.0.0.1:40123`; use it as the client's gateway base URL. */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Stops retries, closes connections and the listener. */
  stop(): Promise<void>;
}

/** Starts the sandbox gateway on an (ephemeral by default) port on 127.0.0.1. */
export async function startSandbox(options: StartSandboxOptions): Promise<RunningSandbox> {
  const sandbox = createSandbox(options);
  const handle = sandbox.app.callback();
  const callback = (req: IncomingMessage, res: ServerResponse): void => void handle(req, res);
  const server: Server =
    options.tls === undefined
      ? createHttpServer(callback)
      : createHttpsServer({ key: options.tls.key, cert: options.tls.cert, ca: options.tls.ca, requestCert: true, rejectUnauthorized: false }, callback);
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const scheme = options.tls === undefined ? "http" : "https";
  return {
    ...sandbox,
    url: `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    server,
    async stop() {
      sandbox.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
