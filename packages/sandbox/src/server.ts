import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { resolve as resolvePath } from "node:path";
import { createSandbox, type Sandbox } from "./app.js";
import type { SandboxOptionsInput } from "./options.js";
import { writeV3KeyFiles, writeV3MerchantKeyFiles, type V3KeyFilePaths } from "./v3/key-files.js";

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
  /**
   * The v3 merchants' key files written to `v3KeysDir` (absolute paths, by mchid), before the sandbox listened;
   * undefined without `v3KeysDir`. A rotation rewrites the merchant's folder and its entry here.
   */
  readonly v3KeyFiles: V3KeyFilePaths | undefined;
  /** Resolves when the key files rewritten after rotations so far are on disk. */
  v3KeyFilesWritten(): Promise<void>;
  /** Stops retries, closes connections and the listener. */
  stop(): Promise<void>;
}

/** Writes the v3 key files (when `v3KeysDir` is set) and keeps them current after each rotation. */
async function keepV3KeyFiles(sandbox: Sandbox): Promise<{ paths: V3KeyFilePaths | undefined; written: () => Promise<void> }> {
  const { v3KeysDir } = sandbox.context.options;
  if (v3KeysDir === undefined) return { paths: undefined, written: () => Promise.resolve() };
  const { v3, clock } = sandbox.context;
  const paths = await writeV3KeyFiles(v3, resolvePath(v3KeysDir), clock.now());
  let rewrites = Promise.resolve();
  v3.onRotate((identity) => {
    rewrites = rewrites.then(async () => {
      try {
        paths.merchants[identity.mchId] = await writeV3MerchantKeyFiles(v3, identity, paths.dir, clock.now());
      } catch (error) {
        // A rotation answers whether or not the files follow; the operator learns why they did not.
        process.stderr.write(`@pay/sandbox: cannot rewrite the v3 key files of ${identity.mchId}: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    });
  });
  return { paths, written: () => rewrites };
}

/** Starts the sandbox gateway on an (ephemeral by default) port on 127.0.0.1. */
export async function startSandbox(options: StartSandboxOptions): Promise<RunningSandbox> {
  const sandbox = createSandbox(options);
  let keyFiles: Awaited<ReturnType<typeof keepV3KeyFiles>>;
  try {
    keyFiles = await keepV3KeyFiles(sandbox);
  } catch (error) {
    sandbox.close();
    throw error;
  }
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
    v3KeyFiles: keyFiles.paths,
    v3KeyFilesWritten: keyFiles.written,
    async stop() {
      sandbox.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await keyFiles.written();
    },
  };
}
