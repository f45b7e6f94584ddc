export * from "./crypto/index.js";
export * from "./keys/index.js";
export * from "./verify/index.js";
export * from "./notify/index.js";
