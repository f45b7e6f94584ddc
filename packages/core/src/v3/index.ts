export * from "./crypto/index.js";
