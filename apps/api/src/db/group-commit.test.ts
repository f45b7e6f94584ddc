import { describe, expect, it } from "vitest";
import { createGroupCommit } from "./group-commit.js";

/** A run function that records the batches it was given; inputs named "bad" make the batch throw. */
function recorder(): { batches: string[][]; run: (inputs: readonly string[]) => Promise<string[]> } {
  const batches: string[][] = [];
  return {
    batches,
    run: (inputs) => {
      batches.push([...inputs]);
      if (inputs.some((input) => input.startsWith("bad"))) return Promise.reject(new Error(`batch with ${inputs.join(",")} failed`));
      return Promise.resolve(inputs.map((input) => `ok:${input}`));
    },
  };
}

describe("group commit", () => {
  it("commits what is submitted in one turn of the event loop as one batch, answering each submitter", async () => {
    const { batches, run } = recorder();
    const group = createGroupCommit({ run, maxBatch: 100 });
    const outputs = await Promise.all(["a", "b", "c"].map((input) => group.submit(input)));
    expect(outputs).toEqual(["ok:a", "ok:b", "ok:c"]);
    expect(batches).toEqual([["a", "b", "c"]]);
  });

  it("submissions arriving while a batch is in flight form the next batch", async () => {
    const batches: string[][] = [];
    let release: () => void = () => undefined;
    const group = createGroupCommit<string, string>({
      maxBatch: 100,
      run: async (inputs) => {
        batches.push([...inputs]);
        if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve));
        return inputs;
      },
    });
    const first = group.submit("a");
    await new Promise((resolve) => setImmediate(resolve));
    const later = ["b", "c"].map((input) => group.submit(input));
    release();
    expect(await Promise.all([first, ...later])).toEqual(["a", "b", "c"]);
    expect(batches).toEqual([["a"], ["b", "c"]]);
  });

  it("never puts more than maxBatch inputs in a batch", async () => {
    const { batches, run } = recorder();
    const group = createGroupCommit({ run, maxBatch: 2 });
    await Promise.all(["a", "b", "c", "d", "e"].map((input) => group.submit(input)));
    expect(batches).toEqual([["a", "b"], ["c", "d"], ["e"]]);
  });

  it("keeps inputs with the same key out of one batch, in submission order", async () => {
    const { batches, run } = recorder();
    const group = createGroupCommit({ run, maxBatch: 10, keyOf: (input: string) => input.slice(0, 1) });
    await Promise.all(["a1", "b1", "a2", "a3", "c1"].map((input) => group.submit(input)));
    expect(batches).toEqual([["a1", "b1", "c1"], ["a2"], ["a3"]]);
  });

  it("a failed batch is retried one input at a time: only the bad input fails", async () => {
    const { batches, run } = recorder();
    const group = createGroupCommit({ run, maxBatch: 10 });
    const settled = await Promise.allSettled(["a", "bad", "c"].map((input) => group.submit(input)));
    expect(settled).toEqual([
      { status: "fulfilled", value: "ok:a" },
      { status: "rejected", reason: new Error("batch with bad failed") },
      { status: "fulfilled", value: "ok:c" },
    ]);
    expect(batches).toEqual([["a", "bad", "c"], ["a"], ["bad"], ["c"]]);
  });

  it("a run that answers the wrong number of outcomes fails its inputs instead of mixing them up", async () => {
    const group = createGroupCommit<string, string>({ maxBatch: 10, run: () => Promise.resolve([]) });
    const settled = await Promise.allSettled(["a", "b"].map((input) => group.submit(input)));
    expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected"]);
  });

  it("drain waits for every submitted input", async () => {
    const done: string[] = [];
    const group = createGroupCommit<string, string>({
      maxBatch: 1,
      run: async (inputs) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        done.push(...inputs);
        return inputs;
      },
    });
    void group.submit("a");
    void group.submit("b");
    await group.drain();
    expect(done).toEqual(["a", "b"]);
  });

  it("refuses a batch size that is not a positive integer", () => {
    expect(() => createGroupCommit({ run: () => Promise.resolve([]), maxBatch: 0 })).toThrow(/maxBatch/);
  });
});
