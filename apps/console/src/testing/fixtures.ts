import type {
  AdminOrder,
  AdminOrderDetailResponse,
  AuditLogResponse,
  OverviewResponse,
  ReconciliationDetailResponse,
  ReconciliationListResponse,
  ReconciliationRunSummary,
  Refund,
  StaffSessionResponse,
  WebhookDelivery,
  WebhookEndpoint,
} from "@pay/core/contract";

// Contract-valid answers for the unit tests (each test suite parses them through the route's schema once).

export const ORDER_ID = "ORD20261203000001";
export const ENDPOINT_ID = "we_abcdefghijklmnopqrstuvwx";
export const EVENT_ID = "evt_abcdefghijklmnopqrstuvwx";

export function staffSession(role: "viewer" | "operator" = "operator"): StaffSessionResponse {
  return { actor: { kind: "staff", id: "st_1", username: role === "operator" ? "olivia" : "victor", role }, csrfToken: `csrf-${role}`, expiresAt: "2026-12-04T10:00:00.000Z" };
}

export function adminOrder(overrides: Partial<AdminOrder> = {}): AdminOrder {
  return {
    id: ORDER_ID,
    status: "paid",
    totalFee: 3990,
    refundedFee: 0,
    feeType: "CNY",
    items: [{ productId: "mug", name: "Ceramic mug", quantity: 1, unitPrice: 3990 }],
    createdAt: "2026-12-03T02:00:00.000Z",
    paidAt: "2026-12-03T02:01:00.000Z",
    transactionId: "4200000000202612030000000001",
    userId: "u_1",
    openid: "oUser000000000000000000001",
    protocol: "v2",
    refundableFee: 3990,
    description: "Ceramic mug",
    closedAt: null,
    ...overrides,
  };
}

export function refund(overrides: Partial<Refund> = {}): Refund {
  return {
    id: "RF20261203000001",
    orderId: ORDER_ID,
    refundFee: 150,
    currency: "CNY",
    status: "processing",
    reason: null,
    createdAt: "2026-12-03T03:00:00.000Z",
    succeededAt: null,
    ...overrides,
  };
}

export function orderDetail(order: AdminOrder = adminOrder(), refunds: Refund[] = []): AdminOrderDetailResponse {
  return {
    order,
    items: order.items,
    refunds,
    timeline: [
      { at: order.createdAt, kind: "created", outcome: null, reason: null, detail: null, refundId: null, amount: order.totalFee, currency: order.feeType },
      { at: "2026-12-03T02:01:00.000Z", kind: "notify", outcome: "accepted", reason: null, detail: "v2", refundId: null, amount: null, currency: null },
      { at: "2026-12-03T02:01:00.000Z", kind: "paid", outcome: null, reason: null, detail: "notify", refundId: null, amount: order.totalFee, currency: order.feeType },
    ],
  };
}

export function overview(): OverviewResponse {
  return {
    date: "2026-12-03",
    payments: [{ currency: "CNY", count: 3, amount: 11970 }],
    refunds: [{ currency: "CNY", count: 1, amount: 150 }],
    refundsOpen: 1,
    refusedNotifies: 2,
    openDifferences: 1,
    failedReconciliations: 0,
    webhooks: { pending: 4, failed: 1, oldestPendingAt: "2026-12-03T01:00:00.000Z" },
  };
}

const ZERO_CLASSES = {
  paid_not_recorded: 0,
  unknown_payment: 0,
  payment_missing_from_bill: 0,
  refund_not_recorded: 0,
  unknown_refund: 0,
  refund_missing_from_bill: 0,
  amount_mismatch: 0,
  currency_mismatch: 0,
  transaction_mismatch: 0,
  unexpected_row: 0,
  summary_mismatch: 0,
};

export function reconciliationRun(date = "2026-12-02"): ReconciliationRunSummary {
  return {
    date,
    state: "succeeded",
    trigger: "schedule",
    attempt: 1,
    startedAt: "2026-12-03T02:00:00.000Z",
    finishedAt: "2026-12-03T02:00:05.000Z",
    bill: "file",
    error: null,
    totals: {
      currency: "CNY",
      bill: { paymentCount: 2, paymentAmount: 7980, refundCount: 0, refundAmount: 0 },
      summary: { lineCount: 2, paymentAmount: 7980, refundAmount: 0, fee: 48 },
      ours: { paymentCount: 1, paymentAmount: 3990, refundCount: 0, refundAmount: 0 },
      feeLines: 48,
      feeSummary: 48,
    },
    differences: { ...ZERO_CLASSES, paid_not_recorded: 1 },
    resultAt: "2026-12-03T02:00:05.000Z",
  };
}

export function reconciliationList(): ReconciliationListResponse {
  return { runs: [reconciliationRun()] };
}

export function reconciliationDetail(): ReconciliationDetailResponse {
  return {
    run: reconciliationRun(),
    items: [
      {
        id: 1,
        class: "paid_not_recorded",
        resolution: "flagged",
        orderId: ORDER_ID,
        refundId: null,
        transactionId: "4200000000202612030000000001",
        billLine: 2,
        billAmount: 3990,
        billCurrency: "CNY",
        ourAmount: null,
        ourCurrency: null,
        detail: "Paid at WeChat Pay, pending here.",
      },
    ],
    nextCursor: null,
  };
}

export function webhookEndpoint(): WebhookEndpoint {
  return {
    id: ENDPOINT_ID,
    url: "https://shop.example.com/hooks/pay",
    description: null,
    eventTypes: ["order.paid"],
    enabled: true,
    source: "api",
    previousSecretExpiresAt: null,
    createdAt: "2026-12-01T00:00:00.000Z",
    updatedAt: "2026-12-01T00:00:00.000Z",
  };
}

export function webhookDelivery(): WebhookDelivery {
  return {
    eventId: EVENT_ID,
    eventType: "order.paid",
    orderId: ORDER_ID,
    state: "failed",
    attempts: 8,
    nextAttemptAt: "2026-12-03T04:00:00.000Z",
    lastAttemptAt: "2026-12-03T03:59:00.000Z",
    lastStatus: 500,
    lastError: "HTTP 500",
    deliveredAt: null,
    failedAt: "2026-12-03T03:59:00.000Z",
    createdAt: "2026-12-03T02:01:00.000Z",
  };
}

export function auditLog(): AuditLogResponse {
  return {
    entries: [
      {
        id: "au_1",
        at: "2026-12-03T03:00:00.000Z",
        actor: { kind: "staff", id: "st_1", username: "olivia" },
        action: "createRefund",
        target: `order:${ORDER_ID}`,
        idempotencyKey: "6c1f8a0e-2d7c-4bd5-9b6e-0d6f5f7c2a11",
        outcome: "ok",
        detail: { refundFee: 150 },
        ip: "127.0.0.1",
      },
    ],
    nextCursor: null,
  };
}
