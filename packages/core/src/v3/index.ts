export * from "./sign/index.js";
export * from "./pay-params/index.js";
export * from "./messages/index.js";
export * from "./bill/index.js";
export * from "./crypto/index.js";
export * from "./keys/index.js";
export * from "./verify/index.js";
export * from "./notify/index.js";
