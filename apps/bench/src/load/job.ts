/** One HTTP request the load generator sends; a job cycles through a list of them. */
export interface LoadRequest {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** One autocannon run in the load worker. */
export interface LoadJob {
  /** Origin on 127.0.0.1 only. */
  readonly url: string;
  readonly connections: number;
  /** Either a duration or a fixed number of requests. */
  readonly measure: { readonly seconds: number } | { readonly amount: number };
  /** Sent in order, one per request across all connections; wraps around when exhausted (counted in `used`). */
  readonly requests: readonly LoadRequest[];
  /** When set, a response body without this text counts as a mismatch. */
  readonly expectBodyIncludes?: string;
  /** Requests per second over all connections (autocannon's overallRate); unset: as fast as the server answers. */
  readonly overallRate?: number;
}

/** A run's figures. */
export interface LoadOutcome {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly completed: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly mismatches: number;
  readonly seconds: number;
  /** Requests built from `requests` (each connection builds one ahead, so a few more than were sent). */
  readonly used: number;
}
