export * from "./messages/index.js";
export * from "./bill/index.js";
