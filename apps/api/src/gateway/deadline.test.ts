import { describe, expect, it } from "vitest";
import { startDeadline } from "./deadline.js";

describe("startDeadline", () => {
  it("aborts with a TimeoutError once the time is up", async () => {
    const deadline = startDeadline(5);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(deadline.signal.aborted).toBe(true);
    expect((deadline.signal.reason as DOMException).name).toBe("TimeoutError");
  });

  it("never aborts once cleared", async () => {
    const deadline = startDeadline(5);
    deadline.clear();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(deadline.signal.aborted).toBe(false);
  });
});
