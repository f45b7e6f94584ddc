// autocannon ships no types (and @types/autocannon trails at 7.x); this covers what the load worker calls.
declare module "autocannon" {
  function autocannon(options: autocannon.Options): autocannon.Instance;

  namespace autocannon {
    /** Builds the summary from raw results; autocannon does this itself only on the main thread. */
    function aggregateResult(results: unknown, options?: Partial<Options>): Result;

    interface RawRequest {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
    }

    interface RequestOptions {
      /** Builds each request of a connection; the returned object is what is sent. */
      setupRequest?: (request: RawRequest, context: Record<string, unknown>) => RawRequest;
    }

    interface Options {
      url: string;
      connections?: number;
      /** Seconds; ignored when `amount` is set. */
      duration?: number;
      amount?: number;
      /** Seconds before a request counts as timed out. */
      timeout?: number;
      /** Requests per second over all connections (a paced load). */
      overallRate?: number;
      requests?: RequestOptions[];
      /** A false answer counts the response in `mismatches`. */
      verifyBody?: (body: string) => boolean;
    }

    /** The running load: an event emitter that is also a promise of the raw result (summarise it with aggregateResult off the main thread). */
    interface Instance extends PromiseLike<unknown> {
      /** Every response, with its latency in (fractional) milliseconds. */
      on(event: "response", listener: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void): this;
    }

    /** The counters of a summarised run that the bench reads. */
    interface Result {
      errors: number;
      timeouts: number;
      mismatches: number;
      non2xx: number;
    }
  }

  export = autocannon;
}
