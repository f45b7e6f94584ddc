/**
 * Group commit: writes submitted while the event loop is busy (requests whose bodies arrived in the
 * same turn, or while the previous batch was in flight) go to the database together, in one
 * transaction or one statement, instead of one transaction each. Every submitter still learns its
 * own outcome, and only after the batch that holds its write has committed.
 *
 * The same mechanism batches reads (order-reads.ts): one statement for every read asked for together.
 *
 * A failed batch is retried one write at a time, so one bad write (a constraint it breaks, a
 * deadlock it was part of) fails alone and the others are committed on their own.
 */
export interface GroupCommitOptions<I, O> {
  /**
   * Writes a batch and returns one outcome per input, in order. It must be all or nothing: when it
   * throws, nothing of the batch may have been committed.
   */
  readonly run: (inputs: readonly I[]) => Promise<readonly O[]>;
  /** At most this many inputs per batch; the rest wait for the next one. */
  readonly maxBatch: number;
  /**
   * Inputs with equal keys never share a batch: the second waits for the next one and so sees what
   * the first committed (e.g. two notifies for one order).
   */
  readonly keyOf?: (input: I) => string;
}

export interface GroupCommit<I, O> {
  /** Resolves with the input's outcome once its batch has committed; rejects when its write failed. */
  submit(input: I): Promise<O>;
  /** Resolves once every write submitted so far has been settled. */
  drain(): Promise<void>;
}

interface Waiting<I, O> {
  readonly input: I;
  readonly resolve: (output: O) => void;
  readonly reject: (error: unknown) => void;
}

export function createGroupCommit<I, O>(options: GroupCommitOptions<I, O>): GroupCommit<I, O> {
  const { run, maxBatch, keyOf } = options;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
  let queue: Waiting<I, O>[] = [];
  let running: Promise<void> | undefined;

  const takeBatch = (): Waiting<I, O>[] => {
    if (keyOf === undefined || queue.length === 1) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      return batch;
    }
    const batch: Waiting<I, O>[] = [];
    const later: Waiting<I, O>[] = [];
    const keys = new Set<string>();
    for (const waiting of queue) {
      const key = keyOf(waiting.input);
      if (batch.length >= maxBatch || keys.has(key)) later.push(waiting);
      else {
        keys.add(key);
        batch.push(waiting);
      }
    }
    queue = later;
    return batch;
  };

  const settle = async (batch: readonly Waiting<I, O>[]): Promise<void> => {
    let outputs: readonly O[];
    try {
      outputs = await run(batch.map((waiting) => waiting.input));
      if (outputs.length !== batch.length) throw new Error(`group commit: ${outputs.length} outcomes for ${batch.length} writes`);
    } catch (error) {
      const [only] = batch;
      if (batch.length === 1 && only !== undefined) only.reject(error);
      // Nothing of the batch was committed: each write on its own, so only the bad one fails.
      else for (const waiting of batch) await settle([waiting]);
      return;
    }
    batch.forEach((waiting, index) => waiting.resolve(outputs[index] as O));
  };

  const loop = async (): Promise<void> => {
    // Let every request that is ready in this turn of the event loop submit first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (queue.length > 0) await settle(takeBatch());
    running = undefined;
  };

  return {
    submit(input) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ input, resolve, reject });
        running ??= loop();
      });
    },
    async drain() {
      while (running !== undefined) await running;
    },
  };
}
