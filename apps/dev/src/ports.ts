import { createServer, type AddressInfo } from "node:net";
import { DevError } from "./errors.js";

/** A port the stack wants, named for the error message: what it is for and the flag that moves it. */
export interface WantedPort {
  readonly port: number;
  readonly role: string;
  readonly flag: string;
}

function listenOnce(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host, port, exclusive: true }, () => {
      const bound = (server.address() as AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}

/** Why a port cannot be used, in words a person can act on; rethrows anything else. */
function portProblem(error: unknown, host: string, wanted: WantedPort): DevError {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${host}:${wanted.port} (${wanted.role})`;
  if (code === "EADDRINUSE") {
    return new DevError("PORT_IN_USE", `Port ${where} is already in use: is another \`pnpm start\` running? Stop it, or choose another port with ${wanted.flag} <port>.`);
  }
  if (code === "EACCES") return new DevError("PORT_IN_USE", `Port ${where} needs privileges this process does not have; choose another with ${wanted.flag} <port>.`);
  return new DevError("PORT_IN_USE", `Port ${where} cannot be opened (${code ?? String(error)}); choose another with ${wanted.flag} <port>.`);
}

/** Checks every fixed port before anything starts, so a busy one fails fast and by name. Port 0 is always free. */
export async function assertPortsFree(host: string, ports: readonly WantedPort[]): Promise<void> {
  for (const wanted of ports) {
    if (wanted.port === 0) continue;
    try {
      await listenOnce(host, wanted.port);
    } catch (error) {
      throw portProblem(error, host, wanted);
    }
  }
}

/** Turns a listen error into the same clear message (for the moment between the check and the listen). */
export function explainListenError(error: unknown, host: string, wanted: WantedPort): Error {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "EADDRINUSE" || code === "EACCES" ? portProblem(error, host, wanted) : (error as Error);
}

/** `port`, or when it is 0 a free port picked now: the API's notify URL must name its port before it listens. */
export async function choosePort(host: string, wanted: WantedPort): Promise<number> {
  if (wanted.port !== 0) return wanted.port;
  return listenOnce(host, 0);
}
