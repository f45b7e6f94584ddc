export { createApp, type AppDeps } from "./app.js";
export { loadConfig, ConfigError, EnvSchema, type AppConfig } from "./env.js";
export { createHttpServer, main, startApi, type RunningApi } from "./server.js";
export { createLogger, LOG_REDACT_PATHS } from "./logging.js";
