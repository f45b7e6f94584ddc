// Messages between the bench and the server processes it starts (over the Node IPC channel).
import type { DeliveryWindow, LedgerTotals } from "../webhooks/ledger.js";

/** Sent once by a child when it accepts connections. */
export interface ReadyMessage {
  readonly type: "ready";
  readonly port: number;
}

/** Asks a child for its memory after a full GC (children run with --expose-gc). */
export interface MemoryRequest {
  readonly type: "memory";
}

/** process.memoryUsage() after a full GC. */
export interface MemorySample {
  readonly type: "memory";
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
}

function isMemoryRequest(message: unknown): message is MemoryRequest {
  return typeof message === "object" && message !== null && "type" in message && message.type === "memory";
}

/** Answers memory requests for the process it runs in, after two full GCs. */
export function answerMemoryRequests(): void {
  // IPC messages are whatever the other process sent: checked, not typed on trust.
  process.on("message", (message: unknown) => {
    if (!isMemoryRequest(message)) return;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) throw new Error("Start this process with --expose-gc.");
    gc();
    gc();
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    const sample: MemorySample = { type: "memory", rss, heapUsed, heapTotal, external };
    process.send?.(sample);
  });
}

/** Asks the webhook receiver for the deliveries since the last ask (and its totals); starts a new window. */
export interface ReceiverWindowRequest {
  readonly type: "receiver-window";
}

/** The receiver's answer. */
export interface ReceiverWindowMessage {
  readonly type: "receiver-window";
  readonly window: DeliveryWindow;
  readonly totals: LedgerTotals;
}

/** True for the receiver's answer (IPC messages are checked, not typed on trust). */
export function isReceiverWindowMessage(message: unknown): message is ReceiverWindowMessage {
  return typeof message === "object" && message !== null && "type" in message && message.type === "receiver-window" && "window" in message && "totals" in message;
}
