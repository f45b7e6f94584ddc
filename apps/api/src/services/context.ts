import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { Database } from "../db/schema.js";
import type { AppConfig } from "../env.js";
import type { WxLoginClient } from "../gateway/login-client.js";
import type { GatewayRegistry } from "../gateway/registry.js";
import type { OrderLoader } from "../db/order-reads.js";
import type { PaidWriter } from "../db/paid-writer.js";
import type { ApiMetrics } from "../metrics/registry.js";
import type { ActivityRecorder } from "./activity.js";
import type { EventBus } from "./events.js";
import type { SessionTokens } from "./session-tokens.js";

/** What the services share; built once by createApp. Nothing correctness-critical lives in process memory. */
export interface ServiceContext {
  readonly config: AppConfig;
  readonly db: Kysely<Database>;
  readonly dialect: "sqlite" | "postgres";
  /** The gateway of each protocol: new orders use `forNewOrders`, an existing order the one of its own protocol (services/gateways.ts). */
  readonly gateways: GatewayRegistry;
  readonly login: WxLoginClient;
  readonly tokens: SessionTokens;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Commits paid transitions, several at a time under load. */
  readonly paidWriter: PaidWriter;
  /** Reads an order by id for the notify path, several at a time under load on PostgreSQL. */
  readonly loadOrder: OrderLoader;
  /** The notify path's order read on its own PostgreSQL pool (issue 21: notifies first); loadOrder when unset. */
  readonly notifyLoadOrder?: OrderLoader | undefined;
  /** Announces committed order events in process (the webhook dispatcher's wake-up, the app's own handlers). */
  readonly events: EventBus;
  /** The order timeline's activity rows (notifies, queries, prepays, closes), buffered and written in batches off the request path. */
  readonly activity: ActivityRecorder;
  /** This app's Prometheus metrics (its own registry). */
  readonly metrics: ApiMetrics;
}
