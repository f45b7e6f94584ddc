import { z } from "zod";
import { CurrencySchema, MinorUnitsSchema, TimestampSchema } from "./common.js";
import { ReconciliationDateSchema } from "./reconciliation.js";
import { OrderItemSchema, OrderSchema, OrderStatusSchema } from "./order.js";
import { RefundSchema } from "./refund.js";

// The merchant console's side of the contract: staff sign-in, the overview, the orders across all users
// with each order's timeline, and the audit log. Reconciliation and webhooks have their own modules.

/** What a staff member may do: a viewer reads; an operator also refunds, replays webhooks and runs reconciliation. */
export const STAFF_ROLES = ["viewer", "operator"] as const;
export const StaffRoleSchema = z.enum(STAFF_ROLES);
export type StaffRole = z.infer<typeof StaffRoleSchema>;

/** The header a signed-in staff member's state-changing calls carry (the session's CSRF token); ADMIN_TOKEN calls need none. */
export const CSRF_HEADER = "x-csrf-token";
/** The session cookie's name (HttpOnly: the console never reads it, it only sends it). */
export const STAFF_SESSION_COOKIE = "pay_console_session";

/** A staff username: lower-case letters, digits, `.`, `_`, `-`, 3 to 64 characters. */
export const StaffUsernameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{2,63}$/, "a username is 3-64 of a-z 0-9 . _ - and starts with a letter or digit");

export const StaffSignInRequestSchema = z
  .object({
    username: z.string().min(1).max(64),
    password: z.string().min(1).max(1024),
  })
  .strict();
export type StaffSignInRequest = z.infer<typeof StaffSignInRequestSchema>;

/** Who is calling an admin route: a signed-in staff member, or automation holding ADMIN_TOKEN (which may do what an operator may). */
export const AdminActorSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("staff"), id: z.string(), username: z.string(), role: StaffRoleSchema }),
  z.object({ kind: z.literal("token"), role: z.literal("operator") }),
]);
export type AdminActor = z.infer<typeof AdminActorSchema>;

/**
 * The caller of the console: sign-in answers it (and sets the session cookie); GET /api/admin/session
 * answers it again after a reload. `csrfToken` goes in the x-csrf-token header of every state-changing
 * call; it is null for ADMIN_TOKEN callers, who need none.
 */
export const StaffSessionResponseSchema = z.object({
  actor: AdminActorSchema,
  csrfToken: z.string().nullable(),
  expiresAt: TimestampSchema.nullable(),
});
export type StaffSessionResponse = z.infer<typeof StaffSessionResponseSchema>;

export const StaffSignOutResponseSchema = z.object({ signedOut: z.literal(true) });
export type StaffSignOutResponse = z.infer<typeof StaffSignOutResponseSchema>;

/** A calendar day in Beijing time (the day WeChat Pay's bills and the console's figures use). */
export const BeijingDateSchema = ReconciliationDateSchema;

/** Money summed per currency: never added across currencies. */
export const CurrencyTotalSchema = z.object({ currency: CurrencySchema, count: z.number().int().nonnegative(), amount: MinorUnitsSchema });
export type CurrencyTotal = z.infer<typeof CurrencyTotalSchema>;

/** `date` is a Beijing day; the default is today in Beijing. */
export const OverviewQuerySchema = z.object({ date: BeijingDateSchema.optional() }).strict();
export type OverviewQuery = z.infer<typeof OverviewQuerySchema>;

/** One Beijing day at a glance, plus what needs attention now. */
export const OverviewResponseSchema = z.object({
  date: BeijingDateSchema,
  /** Orders paid that day (by paid_at), per currency. */
  payments: z.array(CurrencyTotalSchema),
  /** Refunds that succeeded that day (by succeeded_at), per currency. */
  refunds: z.array(CurrencyTotalSchema),
  /** Refunds still processing or abnormal now, of any day. */
  refundsOpen: z.number().int().nonnegative(),
  /** Notifies refused that day (bad signature, unknown order, amount mismatch, …). */
  refusedNotifies: z.number().int().nonnegative(),
  /** Reconciliation differences flagged for a person, over the last 31 days' latest runs. */
  openDifferences: z.number().int().nonnegative(),
  /** Days among the last 31 whose latest reconciliation run failed. */
  failedReconciliations: z.number().int().nonnegative(),
  webhooks: z.object({
    /** Deliveries waiting to be attempted (or retried). */
    pending: z.number().int().nonnegative(),
    /** Deliveries that gave up. */
    failed: z.number().int().nonnegative(),
    /** When the oldest pending delivery was created, or null when none is pending. */
    oldestPendingAt: TimestampSchema.nullable(),
  }),
});
export type OverviewResponse = z.infer<typeof OverviewResponseSchema>;

/**
 * The orders list: every filter optional. `from`/`to` are Beijing days over created_at (inclusive);
 * `q` is an exact order id, transaction id or openid. Newest first; `cursor` is a previous page's `nextCursor`.
 */
export const AdminOrderListQuerySchema = z
  .object({
    status: OrderStatusSchema.optional(),
    from: BeijingDateSchema.optional(),
    to: BeijingDateSchema.optional(),
    q: z.string().trim().min(1).max(128).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z.string().min(1).max(200).optional(),
  })
  .strict();
export type AdminOrderListQuery = z.infer<typeof AdminOrderListQuerySchema>;

/** The same filters for a CSV export (every matching order, streamed; no paging). */
export const AdminOrderExportQuerySchema = AdminOrderListQuerySchema.omit({ limit: true, cursor: true });
export type AdminOrderExportQuery = z.infer<typeof AdminOrderExportQuerySchema>;

/** An order as staff see it: the user's order plus who paid, with which protocol and what can still be refunded. */
export const AdminOrderSchema = OrderSchema.extend({
  userId: z.string(),
  openid: z.string().nullable(),
  protocol: z.enum(["v2", "v3"]),
  /** What a refund may still take: paid minus refunded minus refunds in flight. */
  refundableFee: MinorUnitsSchema,
  /** The product text sent to WeChat Pay (`body` / description). */
  description: z.string(),
  closedAt: TimestampSchema.nullable(),
});
export type AdminOrder = z.infer<typeof AdminOrderSchema>;

export const AdminOrderListResponseSchema = z.object({ orders: z.array(AdminOrderSchema), nextCursor: z.string().nullable() });
export type AdminOrderListResponse = z.infer<typeof AdminOrderListResponseSchema>;

export const TIMELINE_KINDS = [
  "created",
  "prepay_issued",
  "notify",
  "query",
  "paid",
  "closed",
  "refund_requested",
  "refund_notify",
  "refund_succeeded",
  "refund_failed",
  "event_delivery",
  "reconciliation",
] as const;
export const TimelineKindSchema = z.enum(TIMELINE_KINDS);
export type TimelineKind = z.infer<typeof TimelineKindSchema>;

/**
 * One thing that happened to an order, oldest first. `outcome` is kind-specific and machine-readable
 * (a notify: accepted | duplicate | refused; a query: paid | pending | closed | failed; a delivery:
 * delivered | pending | failed; reconciliation: the difference's class); `reason` a code when there is
 * one (why a notify was refused, the gateway error); `detail` free text for humans.
 */
export const TimelineEntrySchema = z.object({
  at: TimestampSchema,
  kind: TimelineKindSchema,
  outcome: z.string().nullable(),
  reason: z.string().nullable(),
  detail: z.string().nullable(),
  refundId: z.string().nullable(),
  amount: MinorUnitsSchema.nullable(),
  currency: CurrencySchema.nullable(),
});
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;

/** One order for staff: what was bought, who paid, refunds, and everything that happened, oldest first. */
export const AdminOrderDetailResponseSchema = z.object({
  order: AdminOrderSchema,
  items: z.array(OrderItemSchema),
  refunds: z.array(RefundSchema),
  timeline: z.array(TimelineEntrySchema),
});
export type AdminOrderDetailResponse = z.infer<typeof AdminOrderDetailResponseSchema>;

/** What an audited operator action was; the contract route name it called. */
export const AuditEntrySchema = z.object({
  id: z.string(),
  at: TimestampSchema,
  actor: z.object({ kind: z.enum(["staff", "token"]), id: z.string().nullable(), username: z.string().nullable() }),
  /** The route name, e.g. createRefund, replayWebhookEvent, runReconciliation, staffSignIn. */
  action: z.string(),
  /** What it acted on, e.g. `order:…`, `webhook-event:…`, `reconciliation:2026-12-01`. */
  target: z.string().nullable(),
  idempotencyKey: z.string().nullable(),
  /** `ok`, or the error code the action was refused with. */
  outcome: z.string(),
  /** The request's fields that matter (amount, reason, …), never a secret. */
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  ip: z.string().nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

export const AuditLogQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z.string().min(1).max(200).optional(),
  })
  .strict();
export type AuditLogQuery = z.infer<typeof AuditLogQuerySchema>;

export const AuditLogResponseSchema = z.object({ entries: z.array(AuditEntrySchema), nextCursor: z.string().nullable() });
export type AuditLogResponse = z.infer<typeof AuditLogResponseSchema>;

/** The CSV export's columns, in order (amounts in minor units beside their currency). */
export const ORDER_EXPORT_COLUMNS = [
  "id",
  "status",
  "total_fee",
  "refunded_fee",
  "currency",
  "transaction_id",
  "openid",
  "protocol",
  "created_at",
  "paid_at",
  "closed_at",
] as const;

/** A CSV answer: the route sends text/csv; the schema describes the body as a string. */
export const CsvBodySchema = z.string();
