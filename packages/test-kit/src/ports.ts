import { createServer } from "node:net";

/**
 * A local port nothing listens on right now, for a server whose address must be known before it
 * starts (an API whose notify_url names its own port, a PostgreSQL server). Another process could
 * take it before the caller binds it: callers that can, retry with a new port.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error("could not pick a free port"))));
    });
  });
}
