// Messages between the bench and the server processes it starts (over the Node IPC channel).

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

/** Answers memory requests for the process it runs in, after two full GCs. */
export function answerMemoryRequests(): void {
  process.on("message", (message: MemoryRequest) => {
    if (message.type !== "memory") return;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) throw new Error("Start this process with --expose-gc.");
    gc();
    gc();
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    const sample: MemorySample = { type: "memory", rss, heapUsed, heapTotal, external };
    process.send?.(sample);
  });
}
