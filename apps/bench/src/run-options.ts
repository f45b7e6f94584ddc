/** What every benchmark module is given by the entry point. */
export interface RunOptions {
  /** Short runs for iterating: figures too rough to publish. */
  readonly quick: boolean;
  /** Progress lines. */
  readonly log: (line: string) => void;
  /** The largest table of the scale benchmark (10k, 100k or 1M orders). */
  readonly scaleMax: number;
  /** Another build of @pay/api (path of its dist/index.js), measured beside this workspace's: before/after a change. */
  readonly baselineApi?: string;
  /** Extra node options for the API processes, e.g. `--cpu-prof --cpu-prof-dir=DIR`. */
  readonly apiNodeArgs?: readonly string[];
  /**
   * `--contenders a,b`: keep only the API contenders whose name contains one of these substrings (case-insensitive);
   * the references always run. Unset: every contender. A run with it never updates the published figures.
   */
  readonly contenders?: readonly string[];
}

/** `--contenders` text -> its substrings (trimmed, none empty); a clear error for an empty list. */
export function parseContenders(text: string): string[] {
  const parts = text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  if (parts.length === 0) throw new Error(`--contenders takes comma-separated substrings of contender names (e.g. "SQLite: distinct,APIv3"), not "${text}".`);
  return parts;
}

/** Whether an API contender named `name` runs: always without a filter, else when its name contains one of the substrings (case-insensitive). */
export function keepsContender(filter: readonly string[] | undefined, name: string): boolean {
  if (filter === undefined) return true;
  const lower = name.toLowerCase();
  return filter.some((part) => lower.includes(part.toLowerCase()));
}
