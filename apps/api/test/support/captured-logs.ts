import { Writable } from "node:stream";
import type { Logger } from "pino";
import { createLogger } from "../../src/logging.js";

/** The API's logger at `info`, writing each JSON line into `logs` instead of stdout, for tests that read what was logged. */
export function captureLogs(): { readonly logger: Logger; readonly logs: string[] } {
  const logs: string[] = [];
  const logger = createLogger({
    level: "info",
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString("utf8"));
        done();
      },
    }),
  });
  return { logger, logs };
}
