import type {
  AdminOrderDetailResponse,
  AdminOrderListResponse,
  AuditLogResponse,
  OverviewResponse,
  ReconciliationDetailResponse,
  ReconciliationListResponse,
  RefundResponse,
  ReplayWebhookEventResponse,
  WebhookDeliveryListResponse,
  WebhookEndpointDetailResponse,
  WebhookEndpointListResponse,
} from "@pay/core/contract";
import { keepPreviousData, useMutation, useQuery, useQueryClient, type UseMutationResult, type UseQueryResult } from "@tanstack/react-query";
import { useState } from "react";
import { useApi } from "./api-context.js";
import { queryKeys, type AdminOrderFilters } from "./keys.js";

/** How often an order is read again while one of its refunds is processing (the refund notify then shows on the timeline). */
export const REFUND_POLL_MS = 2000;

export function useOverview(): UseQueryResult<OverviewResponse> {
  const api = useApi();
  return useQuery({ queryKey: queryKeys.overview, queryFn: () => api.call("getOverview", {}) });
}

/** One page of the orders list; `cursor` is a previous page's nextCursor (undefined for the first). */
export function useAdminOrders(filters: AdminOrderFilters, cursor: string | undefined): UseQueryResult<AdminOrderListResponse> {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.adminOrders(filters, cursor),
    queryFn: () => api.call("listAdminOrders", { query: { ...filters, cursor } }),
    placeholderData: keepPreviousData,
  });
}

/** Whether an order has a refund still waiting for its outcome. */
export function hasProcessingRefund(detail: AdminOrderDetailResponse | undefined): boolean {
  return detail?.refunds.some((refund) => refund.status === "processing") === true;
}

/** One order with items, refunds and timeline; read again every 2 s while a refund is processing. */
export function useAdminOrder(id: string): UseQueryResult<AdminOrderDetailResponse> {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.adminOrder(id),
    queryFn: () => api.call("getAdminOrder", { params: { id } }),
    refetchInterval: (query) => (hasProcessingRefund(query.state.data) ? REFUND_POLL_MS : false),
  });
}

export interface RefundInput {
  readonly refundFee: number;
  readonly reason?: string | undefined;
}

/**
 * Refunds an order. The hook instance (one per opened refund form) holds one Idempotency-Key and sends it
 * with every submit, so a double click or a retry after a lost answer refunds once.
 */
export function useCreateRefund(orderId: string): UseMutationResult<RefundResponse, Error, RefundInput> & { readonly idempotencyKey: string } {
  const api = useApi();
  const queryClient = useQueryClient();
  const [idempotencyKey] = useState(() => globalThis.crypto.randomUUID());
  const mutation = useMutation({
    mutationFn: (input: RefundInput) =>
      api.call("createRefund", {
        params: { id: orderId },
        idempotencyKey,
        body: input.reason === undefined || input.reason === "" ? { refundFee: input.refundFee } : { refundFee: input.refundFee, reason: input.reason },
      }),
    onSettled: async () => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.adminOrder(orderId) }),
        queryClient.invalidateQueries({ queryKey: queryKeys.adminOrdersAll }),
        queryClient.invalidateQueries({ queryKey: queryKeys.auditLogAll }),
      ]);
    },
  });
  return Object.assign(mutation, { idempotencyKey });
}

export function useReconciliations(): UseQueryResult<ReconciliationListResponse> {
  const api = useApi();
  return useQuery({ queryKey: queryKeys.reconciliations, queryFn: () => api.call("listReconciliations", {}) });
}

export function useReconciliation(date: string, cursor?: string): UseQueryResult<ReconciliationDetailResponse> {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.reconciliation(date, cursor),
    queryFn: () => api.call("getReconciliation", { params: { date }, query: { cursor } }),
    // A run started from here may still be going: look again until it ends.
    refetchInterval: (query) => (query.state.data?.run.state === "running" ? REFUND_POLL_MS : false),
  });
}

export function useRunReconciliation(date: string): UseMutationResult<ReconciliationDetailResponse, Error, void> {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api.call("runReconciliation", { params: { date } }),
    onSettled: async () => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.reconciliationDay(date) }),
        queryClient.invalidateQueries({ queryKey: queryKeys.reconciliations }),
        queryClient.invalidateQueries({ queryKey: queryKeys.auditLogAll }),
      ]);
    },
  });
}

export function useWebhookEndpoints(): UseQueryResult<WebhookEndpointListResponse> {
  const api = useApi();
  return useQuery({ queryKey: queryKeys.webhookEndpoints, queryFn: () => api.call("listWebhookEndpoints", {}) });
}

export function useWebhookEndpoint(id: string): UseQueryResult<WebhookEndpointDetailResponse> {
  const api = useApi();
  return useQuery({ queryKey: queryKeys.webhookEndpoint(id), queryFn: () => api.call("getWebhookEndpoint", { params: { id } }) });
}

export function useWebhookDeliveries(endpointId: string, cursor?: string): UseQueryResult<WebhookDeliveryListResponse> {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.webhookDeliveries(endpointId, cursor),
    queryFn: () => api.call("listWebhookDeliveries", { params: { id: endpointId }, query: { cursor } }),
    placeholderData: keepPreviousData,
  });
}

export interface ReplayInput {
  readonly eventId: string;
  readonly endpointId: string;
}

/** Delivers one event again to one endpoint. */
export function useReplayWebhookEvent(): UseMutationResult<ReplayWebhookEventResponse, Error, ReplayInput> {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: ReplayInput) => api.call("replayWebhookEvent", { params: { id: input.eventId }, body: { endpointId: input.endpointId } }),
    onSettled: async (_data, _error, input) => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.webhookDeliveriesAll }),
        queryClient.invalidateQueries({ queryKey: queryKeys.webhookEndpoint(input.endpointId) }),
        queryClient.invalidateQueries({ queryKey: queryKeys.auditLogAll }),
      ]);
    },
  });
}

export function useAuditLog(cursor?: string): UseQueryResult<AuditLogResponse> {
  const api = useApi();
  return useQuery({ queryKey: queryKeys.auditLog(cursor), queryFn: () => api.call("listAuditLog", { query: { cursor } }), placeholderData: keepPreviousData });
}
