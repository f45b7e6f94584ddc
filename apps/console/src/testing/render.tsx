import { QueryClient } from "@tanstack/react-query";
import { render, type RenderResult } from "@testing-library/react";
import { memoryLocation } from "wouter/memory-location";
import { createApiClient, type ApiClient } from "../api/client.js";
import { App } from "../app.js";
import { queryKeys } from "../data/keys.js";
import type { Language } from "../i18n/index.js";
import type { FetchLike } from "../api/client.js";

export function testQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false, gcTime: Infinity }, mutations: { retry: false } } });
}

/** The whole console at `path` (memory location) over a fake fetch, as main.tsx wires it. */
export function renderConsole(
  fetch: FetchLike,
  path: string,
  language: Language = "en",
): RenderResult & { location: ReturnType<typeof memoryLocation>; client: ApiClient; queryClient: QueryClient } {
  const queryClient = testQueryClient();
  const client = createApiClient({ fetch, onUnauthorized: () => queryClient.setQueryData(queryKeys.session, null) });
  const location = memoryLocation({ path, record: true });
  const result = render(<App client={client} queryClient={queryClient} location={{ hook: location.hook, searchHook: location.searchHook }} language={language} />);
  return { ...result, location, client, queryClient };
}
