import { describe, expect, it } from "vitest";
import { waitWithProgress } from "./progress.js";

function sink(isTTY: boolean): { write(text: string): void; isTTY: boolean; text(): string } {
  const chunks: string[] = [];
  return { write: (text) => void chunks.push(text), isTTY, text: () => chunks.join("") };
}

/** A check that answers `value` from its `after`-th call on. */
function answersOnCall<T>(after: number, value: T): () => Promise<T | undefined> {
  let calls = 0;
  return () => Promise.resolve(++calls >= after ? value : undefined);
}

describe("waitWithProgress", () => {
  it("spins on a TTY and clears its line when done", async () => {
    const output = sink(true);
    const result = await waitWithProgress({ label: "the pay notify", output, check: answersOnCall(6, "paid"), timeoutMs: 5000, intervalMs: 50 });
    expect(result.value).toBe("paid");
    expect(output.text()).toMatch(/\r.+ waiting for the pay notify \(\d+\.\d s\)/);
    expect(output.text().endsWith("\r\x1b[2K")).toBe(true);
  });

  it("prints plain lines without a TTY", async () => {
    const output = sink(false);
    const result = await waitWithProgress({ label: "the refund notify", output, check: answersOnCall(2, 1), timeoutMs: 5000, intervalMs: 10, indent: "  " });
    expect(result.value).toBe(1);
    expect(output.text()).toBe("  ... waiting for the refund notify\n");
  });

  it("gives up after the timeout and keeps the last error", async () => {
    const output = sink(false);
    const result = await waitWithProgress({ label: "nothing", output, check: () => Promise.reject(new Error("connection refused")), timeoutMs: 60, intervalMs: 10 });
    expect(result.value).toBeUndefined();
    expect(result.elapsedMs).toBeGreaterThanOrEqual(60);
    expect((result.lastError as Error).message).toBe("connection refused");
  });
});
