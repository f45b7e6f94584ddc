import type { AdminOrderListQuery } from "@pay/core/contract";

/** Every query key in one place, so a mutation invalidates exactly what it changed. */
export const queryKeys = {
  session: ["session"] as const,
  overview: ["overview"] as const,
  adminOrders: (filters: AdminOrderFilters, cursor: string | undefined) => ["adminOrders", filters, cursor ?? null] as const,
  adminOrdersAll: ["adminOrders"] as const,
  adminOrder: (id: string) => ["adminOrder", id] as const,
  reconciliations: ["reconciliations"] as const,
  reconciliation: (date: string, cursor: string | undefined) => ["reconciliation", date, cursor ?? null] as const,
  reconciliationDay: (date: string) => ["reconciliation", date] as const,
  webhookEndpoints: ["webhookEndpoints"] as const,
  webhookEndpoint: (id: string) => ["webhookEndpoint", id] as const,
  webhookDeliveries: (id: string, cursor: string | undefined) => ["webhookDeliveries", id, cursor ?? null] as const,
  webhookDeliveriesAll: ["webhookDeliveries"] as const,
  auditLog: (cursor: string | undefined) => ["auditLog", cursor ?? null] as const,
  auditLogAll: ["auditLog"] as const,
};

/** The orders page's filters (the list query without paging). */
export type AdminOrderFilters = Pick<AdminOrderListQuery, "status" | "from" | "to" | "q">;
