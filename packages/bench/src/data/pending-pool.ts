/** Hands out consecutive ranges of seeded pending orders, so that every notify pays a different order. */
export class PendingPool {
  private next: number;
  private readonly end: number;

  constructor(from: number, count: number) {
    this.next = from;
    this.end = from + count;
  }

  /** The next `count` orders (fewer when the pool runs dry). */
  take(count: number): { from: number; count: number } {
    const from = this.next;
    const taken = Math.max(0, Math.min(count, this.end - from));
    this.next += taken;
    return { from, count: taken };
  }
}
