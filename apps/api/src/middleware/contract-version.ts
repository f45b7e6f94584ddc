import { CONTRACT_VERSION, CONTRACT_VERSION_HEADER, contractCompatibility } from "@pay/core/contract";
import type { Context, Middleware } from "koa";
import { ApiError } from "../errors.js";

/**
 * Checks the client's contract version (createApp sets the API's own on every response). A client that names an unsupported one gets a
 * clear 426 (the mini-program shows "please update"); the previous release line is still served,
 * marked deprecated. Clients that send no version (curl, server-to-server) are served as current.
 * Synchronous, so the app runs it inside its error middleware instead of as a middleware of its own.
 */
export function checkContractVersion(ctx: Context): void {
  const sent = ctx.get(CONTRACT_VERSION_HEADER);
  if (sent === "" || !ctx.path.startsWith("/api/")) return;
  switch (contractCompatibility(sent)) {
    case "current":
      return;
    case "deprecated":
      ctx.set("Deprecation", "true");
      return;
    case "invalid":
      throw new ApiError("VALIDATION_FAILED", `${CONTRACT_VERSION_HEADER}: "${sent.slice(0, 40)}" is not a version like ${CONTRACT_VERSION}.`, {
        field: CONTRACT_VERSION_HEADER,
      });
    case "unsupported":
      throw new ApiError("UPGRADE_REQUIRED", `This app speaks contract ${sent.slice(0, 40)}, but the server speaks ${CONTRACT_VERSION}: please update the app.`);
  }
}

/** checkContractVersion as a middleware of its own (for an app that has no error middleware to run it in). */
export function createContractVersionCheck(): Middleware {
  return async function checkContractVersionMiddleware(ctx, next): Promise<void> {
    checkContractVersion(ctx);
    await next();
  };
}
