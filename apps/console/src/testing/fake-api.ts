import { API_ROUTES, type ApiRouteName } from "@pay/core/contract";
import type { FetchLike } from "../api/client.js";

/** One request the fake received, with what the route table says it is. */
export interface RecordedCall {
  readonly route: ApiRouteName;
  readonly method: string;
  readonly url: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: Headers;
  readonly body: unknown;
  readonly credentials: RequestCredentials | undefined;
}

export interface FakeAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type FakeHandler = (call: RecordedCall) => FakeAnswer | Promise<FakeAnswer>;

/** The route of the table a method and path belong to, with its `:name` values. */
export function matchRoute(method: string, path: string): { route: ApiRouteName; params: Record<string, string> } | undefined {
  for (const name of Object.keys(API_ROUTES) as ApiRouteName[]) {
    const route = API_ROUTES[name];
    if (route.method !== method) continue;
    const names: string[] = [];
    const pattern = new RegExp(
      `^${route.path.replace(/:([A-Za-z]+)/g, (_match, param: string) => {
        names.push(param);
        return "([^/]+)";
      })}$`,
    );
    const match = pattern.exec(path);
    if (match === null) continue;
    return { route: name, params: Object.fromEntries(names.map((param, index) => [param, decodeURIComponent(match[index + 1] ?? "")])) };
  }
  return undefined;
}

/**
 * A fetch that answers like the API, route by route (a route without a handler answers 404 NOT_FOUND), and
 * records every call. Handlers return contract bodies; tests read `calls` to see what was sent.
 */
export function createFakeApi(handlers: Partial<Record<ApiRouteName, FakeHandler>>): {
  fetch: FetchLike;
  calls: RecordedCall[];
  handlers: Partial<Record<ApiRouteName, FakeHandler>>;
} {
  const calls: RecordedCall[] = [];
  const fetch: FetchLike = async (url, init) => {
    const parsed = new URL(url, "http://console.test");
    const method = init.method ?? "GET";
    const matched = matchRoute(method, parsed.pathname);
    if (matched === undefined) throw new Error(`fake API: no route for ${method} ${parsed.pathname}`);
    const call: RecordedCall = {
      route: matched.route,
      method,
      url,
      params: matched.params,
      query: parsed.searchParams,
      headers: new Headers(init.headers),
      body: typeof init.body === "string" ? (JSON.parse(init.body) as unknown) : undefined,
      credentials: init.credentials,
    };
    calls.push(call);
    const handler = handlers[matched.route];
    const answer = handler === undefined ? { status: 404, body: { error: { code: "NOT_FOUND", message: "No handler in this test." } } } : await handler(call);
    return new Response(answer.body === undefined ? null : typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body), {
      status: answer.status,
      headers: { "Content-Type": "application/json", ...answer.headers },
    });
  };
  return { fetch, calls, handlers };
}

/** A promise with its resolve, for holding an answer in flight. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
