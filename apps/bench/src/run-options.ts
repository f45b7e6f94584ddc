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
}
