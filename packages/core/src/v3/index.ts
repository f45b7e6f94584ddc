export * from "./sign/index.js";
export * from "./pay-params/index.js";
export * from "./messages/index.js";
export * from "./bill/index.js";
