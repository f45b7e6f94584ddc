/**
 * An Idempotency-Key for one checkout: the API returns the order it already made for a key it has
 * seen, so a retried or doubled request never creates a second order.
 */
export function newIdempotencyKey(now: number, random: () => number = Math.random): string {
  const part = (): string =>
    Math.floor(random() * 36 ** 8)
      .toString(36)
      .padStart(8, "0");
  return `mp-${now.toString(36)}-${part()}${part()}`;
}
