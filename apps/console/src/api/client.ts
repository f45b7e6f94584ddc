import {
  API_ROUTES,
  ApiErrorBodySchema,
  CONTRACT_VERSION,
  CONTRACT_VERSION_HEADER,
  CSRF_HEADER,
  IDEMPOTENCY_KEY_HEADER,
  type ApiRequestBody,
  type ApiResponseBody,
  type ApiRouteName,
  type ApiRouteSpec,
  type ApiRoutes,
  type PathParamNames,
} from "@pay/core/contract";
import type { z } from "zod";
import { ApiClientError } from "./errors.js";

/** The fetch the client calls (the browser's; tests pass a fake). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

type QueryInput<N extends ApiRouteName> = ApiRoutes[N]["query"] extends z.ZodType ? Partial<z.input<ApiRoutes[N]["query"]>> : undefined;

/** What a call takes besides its name: path params, body, query and Idempotency-Key, each only where the route has one. */
export type CallInput<N extends ApiRouteName> = ([PathParamNames<ApiRoutes[N]["path"]>] extends [never]
  ? { readonly params?: undefined }
  : { readonly params: Readonly<Record<PathParamNames<ApiRoutes[N]["path"]>, string>> }) &
  ([ApiRequestBody<N>] extends [undefined] ? { readonly body?: undefined } : { readonly body: ApiRequestBody<N> }) &
  (ApiRoutes[N]["query"] extends z.ZodType ? { readonly query?: QueryInput<N> } : { readonly query?: undefined }) &
  (ApiRoutes[N]["idempotencyKey"] extends "required"
    ? { readonly idempotencyKey: string }
    : ApiRoutes[N]["idempotencyKey"] extends "optional"
      ? { readonly idempotencyKey?: string }
      : { readonly idempotencyKey?: undefined });

interface LooseInput {
  readonly params?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly idempotencyKey?: string;
}

/** The console's view of the API: typed by the contract; every answer checked against its schema; failures thrown as ApiClientError. */
export interface ApiClient {
  call<N extends ApiRouteName>(name: N, input: CallInput<N>): Promise<ApiResponseBody<N>>;
  /** The same-origin URL of a GET route (the CSV export is a plain link the browser follows with the session cookie). */
  urlFor<N extends ApiRouteName>(name: N, input: CallInput<N>): string;
  /** The CSRF token of the current session (from the session answer), sent on every non-GET call; null when signed out. */
  setCsrfToken(token: string | null): void;
}

export interface ApiClientOptions {
  readonly fetch?: FetchLike;
  /** Called on a 401 from any route but sign-in (whose 401 is a wrong password): the console then shows the sign-in page. */
  readonly onUnauthorized?: () => void;
}

/** Fills a route path's `:name` segments, URL-encoded; a missing one is a programming error. */
export function fillPath(path: string, params: Readonly<Record<string, string>>): string {
  return path.replace(/:([A-Za-z]+)/g, (_match, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`fillPath: no value for :${name} in ${path}`);
    return encodeURIComponent(value);
  });
}

/** `?a=1&b=x` from the defined, non-empty fields of a query, in the order given; "" when there are none. */
export function queryString(query: LooseInput["query"]): string {
  if (query === undefined) return "";
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== "") params.append(name, String(value));
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

function retryAfterSeconds(response: Response): number | undefined {
  const header = response.headers.get("Retry-After");
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim());
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const doFetch: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  let csrfToken: string | null = null;

  function urlOf(route: ApiRouteSpec, loose: LooseInput): string {
    return `${fillPath(route.path, loose.params ?? {})}${queryString(loose.query)}`;
  }

  return {
    setCsrfToken(token) {
      csrfToken = token;
    },
    urlFor(name, input) {
      return urlOf(API_ROUTES[name], input as LooseInput);
    },
    async call(name, input) {
      const route: ApiRouteSpec = API_ROUTES[name];
      const loose = input as LooseInput;
      const headers: Record<string, string> = { Accept: "application/json", [CONTRACT_VERSION_HEADER]: CONTRACT_VERSION };
      if (route.idempotencyKey !== "none" && loose.idempotencyKey !== undefined) headers[IDEMPOTENCY_KEY_HEADER] = loose.idempotencyKey;
      if (route.idempotencyKey === "required" && loose.idempotencyKey === undefined) throw new Error(`${name} needs an Idempotency-Key`);
      if (route.method !== "GET" && csrfToken !== null) headers[CSRF_HEADER] = csrfToken;
      let body: string | undefined;
      if (route.method !== "GET" && loose.body !== undefined) {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(loose.body);
      }
      let response: Response;
      try {
        response = await doFetch(urlOf(route, loose), { method: route.method, headers, credentials: "same-origin", ...(body === undefined ? {} : { body }) });
      } catch (error) {
        throw new ApiClientError({ kind: "network", status: 0, code: "NETWORK", message: error instanceof Error ? error.message : "The network request failed." });
      }
      const data = route.produces === undefined ? await readJson(response) : await response.text();
      const success = response.status === route.status || (route.accepted !== undefined && response.status === route.accepted);
      if (!success) {
        if (response.status === 401 && name !== "staffSignIn") options.onUnauthorized?.();
        const error = ApiErrorBodySchema.safeParse(data);
        if (error.success)
          throw new ApiClientError({
            kind: "api",
            status: response.status,
            code: error.data.error.code,
            message: error.data.error.message,
            retryAfterSeconds: retryAfterSeconds(response),
          });
        throw new ApiClientError({ kind: "http", status: response.status, code: "HTTP_ERROR", message: `HTTP ${response.status}` });
      }
      const parsed = route.response.safeParse(data);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue === undefined ? "" : ` at ${issue.path.join(".") || "(root)"}: ${issue.message}`;
        throw new ApiClientError({ kind: "invalid", status: response.status, code: "INVALID_RESPONSE", message: `The answer of ${name} does not match the contract${where}.` });
      }
      return parsed.data as ApiResponseBody<typeof name>;
    },
  };
}
