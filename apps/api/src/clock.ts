/** The API's source of time: injected everywhere so tests can move it. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** ISO 8601 UTC text of a clock reading, as stored in the database. */
export function isoAt(ms: number): string {
  return new Date(ms).toISOString();
}
