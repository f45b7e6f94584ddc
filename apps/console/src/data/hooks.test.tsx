import {
  AdminOrderDetailResponseSchema,
  AdminOrderListResponseSchema,
  AuditLogResponseSchema,
  OverviewResponseSchema,
  ReconciliationDetailResponseSchema,
  ReconciliationListResponseSchema,
  WebhookDeliveryListResponseSchema,
  WebhookEndpointListResponseSchema,
} from "@pay/core/contract";
import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { describe, expect, it } from "vitest";
import { createApiClient, type ApiClient } from "../api/client.js";
import {
  adminOrder,
  auditLog,
  ENDPOINT_ID,
  EVENT_ID,
  ORDER_ID,
  orderDetail,
  overview,
  reconciliationDetail,
  reconciliationList,
  refund,
  staffSession,
  webhookDelivery,
  webhookEndpoint,
} from "../testing/fixtures.js";
import { createFakeApi, type FakeHandler } from "../testing/fake-api.js";
import { testQueryClient } from "../testing/render.js";
import type { ApiRouteName } from "@pay/core/contract";
import { ApiProvider } from "./api-context.js";
import { queryKeys } from "./keys.js";
import {
  REFUND_POLL_MS,
  useAdminOrder,
  useAdminOrders,
  useAuditLog,
  useCreateRefund,
  useOverview,
  useReconciliation,
  useReconciliations,
  useReplayWebhookEvent,
  useWebhookDeliveries,
  useWebhookEndpoints,
} from "./queries.js";
import { canOperate, useSession, useSignIn, useSignOut } from "./session.js";

function setup(handlers: Partial<Record<ApiRouteName, FakeHandler>>): {
  api: ReturnType<typeof createFakeApi>;
  client: ApiClient;
  queryClient: QueryClient;
  wrapper: (props: { children: ReactNode }) => ReactNode;
} {
  const api = createFakeApi(handlers);
  const queryClient = testQueryClient();
  const client = createApiClient({ fetch: api.fetch, onUnauthorized: () => queryClient.setQueryData(queryKeys.session, null) });
  const wrapper = ({ children }: { children: ReactNode }): ReactNode => (
    <QueryClientProvider client={queryClient}>
      <ApiProvider client={client}>{children}</ApiProvider>
    </QueryClientProvider>
  );
  return { api, client, queryClient, wrapper };
}

const ok =
  (body: unknown, status = 200): FakeHandler =>
  () => ({ status, body });

describe("session hooks", () => {
  it("useSession answers the session and keeps its CSRF token for the next state-changing call", async () => {
    const { api, wrapper } = setup({ getStaffSession: ok(staffSession()), replayWebhookEvent: ok({ deliveries: 1 }) });
    const session = renderHook(() => useSession(), { wrapper });
    await waitFor(() => expect(session.result.current.data).toEqual(staffSession()));
    expect(canOperate(session.result.current.data)).toBe(true);
    const replay = renderHook(() => useReplayWebhookEvent(), { wrapper });
    await act(() => replay.result.current.mutateAsync({ eventId: EVENT_ID, endpointId: ENDPOINT_ID }));
    const post = api.calls.find((call) => call.route === "replayWebhookEvent");
    expect(post?.headers.get("x-csrf-token")).toBe("csrf-operator");
    expect(post?.body).toEqual({ endpointId: ENDPOINT_ID });
    expect(post?.params).toEqual({ id: EVENT_ID });
  });

  it("useSession answers null (signed out) on a 401, and a viewer may not operate", async () => {
    const signedOut = setup({ getStaffSession: () => ({ status: 401, body: { error: { code: "UNAUTHORIZED", message: "Sign in." } } }) });
    const session = renderHook(() => useSession(), { wrapper: signedOut.wrapper });
    await waitFor(() => expect(session.result.current.isSuccess).toBe(true));
    expect(session.result.current.data).toBeNull();
    expect(canOperate(staffSession("viewer"))).toBe(false);
    expect(canOperate({ actor: { kind: "token", role: "operator" }, csrfToken: null, expiresAt: null })).toBe(true);
  });

  it("useSignIn stores the session and its CSRF token; useSignOut forgets both", async () => {
    const { api, queryClient, wrapper } = setup({ staffSignIn: ok(staffSession()), staffSignOut: ok({ signedOut: true }) });
    const signIn = renderHook(() => useSignIn(), { wrapper });
    await act(() => signIn.result.current.mutateAsync({ username: "olivia", password: "correct horse" }));
    expect(api.calls[0]?.body).toEqual({ username: "olivia", password: "correct horse" });
    expect(api.calls[0]?.headers.has("x-csrf-token")).toBe(false);
    expect(queryClient.getQueryData(queryKeys.session)).toEqual(staffSession());
    const signOut = renderHook(() => useSignOut(), { wrapper });
    await act(() => signOut.result.current.mutateAsync());
    expect(api.calls[1]?.headers.get("x-csrf-token")).toBe("csrf-operator");
    expect(queryClient.getQueryData(queryKeys.session)).toBeNull();
  });
});

describe("reading hooks, each answer checked against the contract", () => {
  it("useOverview", async () => {
    const { wrapper } = setup({ getOverview: ok(overview()) });
    const { result } = renderHook(() => useOverview(), { wrapper });
    await waitFor(() => expect(result.current.data).toEqual(OverviewResponseSchema.parse(overview())));
  });

  it("useAdminOrders sends the filters and the page's cursor", async () => {
    const page = { orders: [adminOrder()], nextCursor: "next-1" };
    const { api, wrapper } = setup({ listAdminOrders: ok(page) });
    const { result, rerender } = renderHook(({ cursor }: { cursor: string | undefined }) => useAdminOrders({ status: "paid", from: "2026-12-01" }, cursor), {
      wrapper,
      initialProps: { cursor: undefined as string | undefined },
    });
    await waitFor(() => expect(result.current.data).toEqual(AdminOrderListResponseSchema.parse(page)));
    rerender({ cursor: "next-1" });
    await waitFor(() => expect(api.calls).toHaveLength(2));
    expect(api.calls.map((call) => call.url)).toEqual(["/api/admin/orders?status=paid&from=2026-12-01", "/api/admin/orders?status=paid&from=2026-12-01&cursor=next-1"]);
  });

  it("useAdminOrders surfaces a wrong shape as an error, never as data", async () => {
    const { wrapper } = setup({ listAdminOrders: ok({ orders: [{ id: "x" }], nextCursor: null }) });
    const { result } = renderHook(() => useAdminOrders({}, undefined), { wrapper });
    await waitFor(() => expect(result.current.isError).toBe(true));
    expect(result.current.data).toBeUndefined();
  });

  it("useAdminOrder reads the order again every 2 s while a refund is processing, and stops once it is settled", async () => {
    const processing = orderDetail(adminOrder({ refundableFee: 3840 }), [refund()]);
    const settled = orderDetail(adminOrder({ refundedFee: 150, refundableFee: 3840 }), [refund({ status: "succeeded", succeededAt: "2026-12-03T03:00:02.000Z" })]);
    let reads = 0;
    const { api, wrapper } = setup({
      getAdminOrder: () => {
        reads += 1;
        return { status: 200, body: reads === 1 ? processing : settled };
      },
    });
    const started = Date.now();
    const { result } = renderHook(() => useAdminOrder(ORDER_ID), { wrapper });
    await waitFor(() => expect(result.current.data?.refunds[0]?.status).toBe("processing"));
    await waitFor(() => expect(result.current.data).toEqual(AdminOrderDetailResponseSchema.parse(settled)), { timeout: REFUND_POLL_MS + 2000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(REFUND_POLL_MS - 100);
    await new Promise((resolve) => setTimeout(resolve, REFUND_POLL_MS + 300));
    expect(api.calls).toHaveLength(2);
    expect(api.calls[0]?.url).toBe(`/api/admin/orders/${ORDER_ID}`);
  });

  it("useReconciliations and useReconciliation", async () => {
    const { api, wrapper } = setup({ listReconciliations: ok(reconciliationList()), getReconciliation: ok(reconciliationDetail()) });
    const list = renderHook(() => useReconciliations(), { wrapper });
    const day = renderHook(() => useReconciliation("2026-12-02"), { wrapper });
    await waitFor(() => expect(list.result.current.data).toEqual(ReconciliationListResponseSchema.parse(reconciliationList())));
    await waitFor(() => expect(day.result.current.data).toEqual(ReconciliationDetailResponseSchema.parse(reconciliationDetail())));
    expect(api.calls.map((call) => call.url).sort()).toEqual(["/api/admin/reconciliations", "/api/admin/reconciliations/2026-12-02"]);
  });

  it("useWebhookEndpoints, useWebhookDeliveries and useAuditLog", async () => {
    const deliveries = { deliveries: [webhookDelivery()], nextCursor: null };
    const { wrapper } = setup({ listWebhookEndpoints: ok({ endpoints: [webhookEndpoint()] }), listWebhookDeliveries: ok(deliveries), listAuditLog: ok(auditLog()) });
    const endpoints = renderHook(() => useWebhookEndpoints(), { wrapper });
    const list = renderHook(() => useWebhookDeliveries(ENDPOINT_ID), { wrapper });
    const audit = renderHook(() => useAuditLog(), { wrapper });
    await waitFor(() => expect(endpoints.result.current.data).toEqual(WebhookEndpointListResponseSchema.parse({ endpoints: [webhookEndpoint()] })));
    await waitFor(() => expect(list.result.current.data).toEqual(WebhookDeliveryListResponseSchema.parse(deliveries)));
    await waitFor(() => expect(audit.result.current.data).toEqual(AuditLogResponseSchema.parse(auditLog())));
  });
});

describe("useCreateRefund", () => {
  const answer = { refund: refund(), order: adminOrder({ refundableFee: 3840 }) };

  it("sends one Idempotency-Key for every submit of the same form, and a new one for another form", async () => {
    let attempt = 0;
    const { api, client, wrapper } = setup({
      createRefund: () => {
        attempt += 1;
        return attempt === 1 ? { status: 503, body: { error: { code: "GATEWAY_UNAVAILABLE", message: "WeChat Pay did not answer." } } } : { status: 201, body: answer };
      },
      getAdminOrder: ok(orderDetail()),
    });
    client.setCsrfToken("csrf-operator");
    const form = renderHook(() => useCreateRefund(ORDER_ID), { wrapper });
    await act(async () => {
      await expect(form.result.current.mutateAsync({ refundFee: 150, reason: "damaged" })).rejects.toThrow("WeChat Pay did not answer.");
    });
    await act(() => form.result.current.mutateAsync({ refundFee: 150, reason: "damaged" }));
    const other = renderHook(() => useCreateRefund(ORDER_ID), { wrapper });
    await act(() => other.result.current.mutateAsync({ refundFee: 100 }));
    const posts = api.calls.filter((call) => call.route === "createRefund");
    const keys = posts.map((call) => call.headers.get("Idempotency-Key"));
    expect(keys[0]).toBe(form.result.current.idempotencyKey);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).toBe(other.result.current.idempotencyKey);
    expect(keys[2]).not.toBe(keys[0]);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(posts.map((call) => call.body)).toEqual([{ refundFee: 150, reason: "damaged" }, { refundFee: 150, reason: "damaged" }, { refundFee: 100 }]);
    expect(posts.every((call) => call.headers.get("x-csrf-token") === "csrf-operator")).toBe(true);
  });

  it("keeps its key across re-renders", () => {
    const { wrapper } = setup({ createRefund: ok(answer, 201) });
    const form = renderHook(() => useCreateRefund(ORDER_ID), { wrapper });
    const first = form.result.current.idempotencyKey;
    form.rerender();
    form.rerender();
    expect(form.result.current.idempotencyKey).toBe(first);
  });
});
