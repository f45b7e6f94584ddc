export { createApp, type AppDeps } from "./app.js";
export type { EventHandler } from "./services/events.js";
export {
  loadConfig,
  ConfigError,
  EnvSchema,
  isWechatPayHost,
  WORKER_ROLE_VARIABLE,
  DEFAULT_API_WORKER_NICENESS,
  type AppConfig,
  type ApiVersion,
  type V3Account,
  type V3Config,
  type V3KeyMode,
} from "./env.js";
export { loadV3Credentials, type V3Credentials } from "./v3-credentials.js";
export { createHttpServer, main, startApi, type RunningApi, type StartApiOptions } from "./server.js";
export { createLogger, LOG_REDACT_PATHS } from "./logging.js";
