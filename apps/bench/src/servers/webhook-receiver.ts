// The webhook receiver of the webhooks benchmark, in its own process:
//   node webhook-receiver.js <certificate file> <key file> <secret file>
// HTTPS with that certificate, verifying with the endpoint's secret read from its file. It answers each delivery
// at once and reports what it received over the IPC channel.
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { DeliveryLedger } from "../webhooks/ledger.js";
import { createReceiverHandler } from "../webhooks/receiver.js";
import { webhookVerifier } from "../webhooks/verify.js";
import { answerMemoryRequests, type ReadyMessage, type ReceiverWindowMessage } from "./protocol.js";

const [certFile, keyFile, secretFile] = process.argv.slice(2);
if (certFile === undefined || keyFile === undefined || secretFile === undefined) throw new Error("Usage: webhook-receiver.js <certificate file> <key file> <secret file>");

const ledger = new DeliveryLedger();
const handle = createReceiverHandler(webhookVerifier(readFileSync(secretFile, "utf8").trim()), ledger);
const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, handle);
server.keepAliveTimeout = 30_000;
server.listen(0, "127.0.0.1", () => {
  const ready: ReadyMessage = { type: "ready", port: (server.address() as AddressInfo).port };
  process.send?.(ready);
});
process.on("message", (message: unknown) => {
  if (typeof message !== "object" || message === null || !("type" in message) || message.type !== "receiver-window") return;
  const answer: ReceiverWindowMessage = { type: "receiver-window", window: ledger.takeWindow(), totals: ledger.totals() };
  process.send?.(answer);
});
answerMemoryRequests();
process.once("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
