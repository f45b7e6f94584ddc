import { WEBHOOK_EVENT_TYPES } from "@pay/core/contract";
import { sql, type Kysely } from "kysely";
import type { Database, WebhookEndpointRow } from "./schema.js";

/** The id of the endpoint WEBHOOK_URL configures. */
export const ENV_ENDPOINT_ID = "we_env";

/** How long the secret replaced by a new WEBHOOK_SECRET keeps signing beside it (a second v1). */
export const ENV_SECRET_OVERLAP_MS = 24 * 3600 * 1000;

/**
 * Creates or updates the endpoint of WEBHOOK_URL + WEBHOOK_SECRET (id we_env) in one statement, so
 * processes starting together agree. Created enabled for every event type; later starts take the URL
 * and secret from the environment and keep what an admin changed (enabled, event types). A changed
 * secret keeps the previous one signing for ENV_SECRET_OVERLAP_MS, so receivers can switch without a gap.
 */
export async function upsertEnvEndpoint(db: Kysely<Database>, endpoint: { readonly url: string; readonly secret: string }, now: number): Promise<WebhookEndpointRow> {
  const at = new Date(now).toISOString();
  const overlapUntil = new Date(now + ENV_SECRET_OVERLAP_MS).toISOString();
  const changed = sql<boolean>`(webhook_endpoints.secret <> excluded.secret or webhook_endpoints.url <> excluded.url)`;
  const rotated = sql<boolean>`webhook_endpoints.secret <> excluded.secret`;
  return db
    .insertInto("webhook_endpoints")
    .values({
      id: ENV_ENDPOINT_ID,
      url: endpoint.url,
      description: "WEBHOOK_URL",
      event_types: JSON.stringify(WEBHOOK_EVENT_TYPES),
      secret: endpoint.secret,
      previous_secret: null,
      previous_secret_expires_at: null,
      enabled: 1,
      source: "env",
      created_at: at,
      updated_at: at,
    })
    .onConflict((conflict) =>
      conflict.column("id").doUpdateSet({
        url: sql<string>`excluded.url`,
        previous_secret: sql<string | null>`case when ${rotated} then webhook_endpoints.secret else webhook_endpoints.previous_secret end`,
        previous_secret_expires_at: sql<string | null>`case when ${rotated} then ${overlapUntil} else webhook_endpoints.previous_secret_expires_at end`,
        secret: sql<string>`excluded.secret`,
        updated_at: sql<string>`case when ${changed} then excluded.updated_at else webhook_endpoints.updated_at end`,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}
