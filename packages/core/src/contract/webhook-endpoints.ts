import { z } from "zod";
import { TimestampSchema } from "./common.js";
import { WEBHOOK_EVENT_TYPES, WebhookEventIdSchema, WebhookEventTypeSchema } from "./webhook.js";

/** An endpoint id: `we_` and 24 letters or digits, or `we_env` for the endpoint WEBHOOK_URL configures. */
export const WebhookEndpointIdSchema = z.string().regex(/^we_(?:[0-9A-Za-z]{24}|env)$/, "an endpoint id is we_ followed by 24 letters or digits (or we_env)");

/** The longest endpoint URL accepted (the server also checks the scheme and host: https, or http to loopback outside production). */
export const MAX_WEBHOOK_URL_LENGTH = 2048;
export const MAX_WEBHOOK_DESCRIPTION_LENGTH = 200;
/** How long a rotated-out secret may keep signing beside the new one: at most 7 days, 24 hours unless told. */
export const MAX_PREVIOUS_SECRET_SECONDS = 7 * 24 * 3600;
export const DEFAULT_PREVIOUS_SECRET_SECONDS = 24 * 3600;

export const WEBHOOK_DELIVERY_STATES = ["pending", "delivered", "failed"] as const;
export const WebhookDeliveryStateSchema = z.enum(WEBHOOK_DELIVERY_STATES);
export type WebhookDeliveryState = z.infer<typeof WebhookDeliveryStateSchema>;

const EndpointUrlSchema = z.string().min(1, "must not be empty").max(MAX_WEBHOOK_URL_LENGTH, `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
/** The event types an endpoint receives: at least one, each once. */
const EventTypesSchema = z
  .array(WebhookEventTypeSchema)
  .min(1, "must name at least one event type")
  .max(WEBHOOK_EVENT_TYPES.length)
  .refine((types) => new Set(types).size === types.length, "must name each event type once");
const DescriptionSchema = z.string().max(MAX_WEBHOOK_DESCRIPTION_LENGTH);

/**
 * An endpoint as the API shows it. The signing secret is never part of it: it is answered once, by the
 * create and rotate-secret routes. `previousSecretExpiresAt` is set while a rotated-out secret still signs.
 */
export const WebhookEndpointSchema = z.object({
  id: WebhookEndpointIdSchema,
  url: z.string(),
  description: z.string().nullable(),
  eventTypes: z.array(WebhookEventTypeSchema),
  enabled: z.boolean(),
  /** `api`: made by an admin call; `env`: WEBHOOK_URL + WEBHOOK_SECRET (its URL and secret follow the environment at each start). */
  source: z.enum(["api", "env"]),
  previousSecretExpiresAt: TimestampSchema.nullable(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type WebhookEndpoint = z.infer<typeof WebhookEndpointSchema>;

/** A signing secret: `whsec_` and 32 random bytes in base64url. */
export const WebhookSecretSchema = z.string().regex(/^whsec_[0-9A-Za-z_-]{43}$/);

export const CreateWebhookEndpointRequestSchema = z
  .object({
    url: EndpointUrlSchema,
    eventTypes: EventTypesSchema,
    description: DescriptionSchema.optional(),
  })
  .strict();
export type CreateWebhookEndpointRequest = z.infer<typeof CreateWebhookEndpointRequestSchema>;

/** An endpoint with its secret: only the create and rotate-secret answers carry it. Store it now. */
export const WebhookEndpointSecretResponseSchema = z.object({ endpoint: WebhookEndpointSchema, secret: WebhookSecretSchema });
export type WebhookEndpointSecretResponse = z.infer<typeof WebhookEndpointSecretResponseSchema>;

export const WebhookEndpointListResponseSchema = z.object({ endpoints: z.array(WebhookEndpointSchema) });
export type WebhookEndpointListResponse = z.infer<typeof WebhookEndpointListResponseSchema>;

export const WebhookEndpointResponseSchema = z.object({ endpoint: WebhookEndpointSchema });
export type WebhookEndpointResponse = z.infer<typeof WebhookEndpointResponseSchema>;

/** One endpoint and how many of its deliveries are in each state. */
export const WebhookEndpointDetailResponseSchema = z.object({
  endpoint: WebhookEndpointSchema,
  deliveries: z.object({ pending: z.number().int().nonnegative(), delivered: z.number().int().nonnegative(), failed: z.number().int().nonnegative() }),
});
export type WebhookEndpointDetailResponse = z.infer<typeof WebhookEndpointDetailResponseSchema>;

/** Changes some of an endpoint's settings (at least one); `enabled: false` disables it, `description: null` clears it. */
export const UpdateWebhookEndpointRequestSchema = z
  .object({
    url: EndpointUrlSchema.optional(),
    eventTypes: EventTypesSchema.optional(),
    description: DescriptionSchema.nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, "name at least one of url, eventTypes, description, enabled");
export type UpdateWebhookEndpointRequest = z.infer<typeof UpdateWebhookEndpointRequestSchema>;

/** A new secret (an empty body takes the defaults); the old one keeps signing beside it (a second `v1`) for `previousSecretExpiresInSeconds` (0: stops at once). */
export const RotateWebhookSecretRequestSchema = z
  .object({
    previousSecretExpiresInSeconds: z.number().int().min(0).max(MAX_PREVIOUS_SECRET_SECONDS).default(DEFAULT_PREVIOUS_SECRET_SECONDS),
  })
  .strict()
  .prefault({});
export type RotateWebhookSecretRequest = z.input<typeof RotateWebhookSecretRequestSchema>;

export const WebhookEndpointParamsSchema = z.object({ id: WebhookEndpointIdSchema });
export const WebhookEventParamsSchema = z.object({ id: WebhookEventIdSchema });

/** Delivers one event again (an empty body: everywhere): to every endpoint that has a delivery of it or is subscribed to its type, or to one endpoint. */
export const ReplayWebhookEventRequestSchema = z.object({ endpointId: WebhookEndpointIdSchema.optional() }).strict().prefault({});
export type ReplayWebhookEventRequest = z.infer<typeof ReplayWebhookEventRequestSchema>;
export const ReplayWebhookEventResponseSchema = z.object({ deliveries: z.number().int().nonnegative() });
export type ReplayWebhookEventResponse = z.infer<typeof ReplayWebhookEventResponseSchema>;

/** Delivers again every delivery that failed (gave up) at or after `since`, of every endpoint or of one. */
export const ReplayFailedWebhookDeliveriesRequestSchema = z.object({ since: TimestampSchema, endpointId: WebhookEndpointIdSchema.optional() }).strict();
export type ReplayFailedWebhookDeliveriesRequest = z.infer<typeof ReplayFailedWebhookDeliveriesRequestSchema>;
export const ReplayFailedWebhookDeliveriesResponseSchema = z.object({ replayed: z.number().int().nonnegative() });
export type ReplayFailedWebhookDeliveriesResponse = z.infer<typeof ReplayFailedWebhookDeliveriesResponseSchema>;

export const WebhookDeliveryListQuerySchema = z
  .object({
    state: WebhookDeliveryStateSchema.optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type WebhookDeliveryListQuery = z.infer<typeof WebhookDeliveryListQuerySchema>;

/** One event's delivery to one endpoint: where it stands and how its last attempt went. */
export const WebhookDeliverySchema = z.object({
  eventId: WebhookEventIdSchema,
  eventType: WebhookEventTypeSchema,
  orderId: z.string(),
  state: WebhookDeliveryStateSchema,
  attempts: z.number().int().nonnegative(),
  /** When it is tried next (pending), or was last due. */
  nextAttemptAt: TimestampSchema,
  lastAttemptAt: TimestampSchema.nullable(),
  /** The HTTP status of the last answer, if the receiver answered. */
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  deliveredAt: TimestampSchema.nullable(),
  failedAt: TimestampSchema.nullable(),
  createdAt: TimestampSchema,
});
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;

/** An endpoint's deliveries, newest first; `nextCursor` fetches the next page. */
export const WebhookDeliveryListResponseSchema = z.object({ deliveries: z.array(WebhookDeliverySchema), nextCursor: z.string().nullable() });
export type WebhookDeliveryListResponse = z.infer<typeof WebhookDeliveryListResponseSchema>;
