const BEIJING_OFFSET_MS = 8 * 3600 * 1000;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** Formats an instant as the protocol's `yyyyMMddHHmmss` in Beijing time (UTC+8). */
export function formatCompactBeijingTime(at: Date | number): string {
  const d = new Date((typeof at === "number" ? at : at.getTime()) + BEIJING_OFFSET_MS);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

/** Formats an instant as `yyyy-MM-dd HH:mm:ss` in Beijing time (refund success_time). */
export function formatDashedBeijingTime(at: Date | number): string {
  const c = formatCompactBeijingTime(at);
  return `${c.slice(0, 4)}-${c.slice(4, 6)}-${c.slice(6, 8)} ${c.slice(8, 10)}:${c.slice(10, 12)}:${c.slice(12, 14)}`;
}

/** Parses `yyyyMMddHHmmss` or `yyyy-MM-dd HH:mm:ss` (Beijing time) to a Date, or undefined if malformed. */
export function parseBeijingTime(text: string): Date | undefined {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})[ ]?(\d{2}):?(\d{2}):?(\d{2})$/.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s) - BEIJING_OFFSET_MS;
  const back = new Date(ms + BEIJING_OFFSET_MS);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  return new Date(ms);
}
