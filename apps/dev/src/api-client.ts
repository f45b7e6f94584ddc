import { API_ROUTES, ApiErrorBodySchema, type ApiRequestBody, type ApiResponseBody, type ApiRouteName } from "@pay/core/contract";
import type { z } from "zod";
import { jsonText } from "./json-text.js";

/** A request as the demo shows it: method, path, the headers worth showing, and the JSON body. */
export interface ShownRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

/** An answer checked against the contract: the typed body, or the API's coded error (or a contract breach). */
export type ApiAnswer<N extends ApiRouteName> =
  | { readonly ok: true; readonly status: number; readonly body: ApiResponseBody<N> }
  | { readonly ok: false; readonly status: number; readonly error: { readonly code: string; readonly message: string } };

export interface CallOptions<N extends ApiRouteName> {
  readonly id?: string;
  readonly body?: ApiRequestBody<N>;
  /** A session token, or the admin token for admin routes. */
  readonly token?: string;
  readonly idempotencyKey?: string;
}

/** A client for the API that speaks only the @pay/core contract, as the mini-program's does. */
export interface ApiClient {
  call<N extends ApiRouteName>(name: N, options?: CallOptions<N>): Promise<{ request: ShownRequest; answer: ApiAnswer<N> }>;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return text === "" ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return text;
  }
}

/** Builds a client for the API at `baseUrl`; every answer is parsed with the route's response schema. */
export function createApiClient(baseUrl: string): ApiClient {
  return {
    async call(name, options = {}) {
      const route = API_ROUTES[name];
      const path = route.path.replace(":id", encodeURIComponent(options.id ?? ""));
      const headers: Record<string, string> = {};
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey;
      if (options.body !== undefined) headers["content-type"] = "application/json";
      const request: ShownRequest = { method: route.method, url: `${baseUrl}${path}`, headers, body: options.body };
      const response = await fetch(request.url, { method: route.method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
      const json = await readJson(response);
      if (response.status !== route.status) {
        const error = ApiErrorBodySchema.safeParse(json);
        return {
          request,
          answer: { ok: false, status: response.status, error: error.success ? error.data.error : { code: "UNEXPECTED", message: jsonText(json) ?? "(no body)" } },
        };
      }
      const parsed = (route.response as unknown as z.ZodType<ApiResponseBody<typeof name>>).safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return {
          request,
          answer: {
            ok: false,
            status: response.status,
            error: { code: "CONTRACT", message: `the answer does not match the contract at ${issue?.path.join(".") ?? ""}: ${issue?.message ?? ""}` },
          },
        };
      }
      return { request, answer: { ok: true, status: response.status, body: parsed.data } };
    },
  };
}
