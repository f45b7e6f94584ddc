export * from "./sign/index.js";
export * from "./pay-params/index.js";
