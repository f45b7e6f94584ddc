/** Hands out consecutive ranges of seeded pending orders, so that every notify pays a different order. */
export class PendingPool {
  private next: number;

  constructor(
    readonly from: number,
    readonly count: number,
  ) {
    this.next = from;
  }

  /** Starts over from the first order (after the orders were put back to pending). */
  rewind(): void {
    this.next = this.from;
  }

  /** The next `count` orders (fewer when the pool runs dry). */
  take(count: number): { from: number; count: number } {
    const from = this.next;
    const taken = Math.max(0, Math.min(count, this.from + this.count - from));
    this.next += taken;
    return { from, count: taken };
  }
}
