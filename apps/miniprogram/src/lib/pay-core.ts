// The part of @pay/core the mini-program runs: the contract (routes with their zod schemas, error
// body, version header, order limits) and money formatting. The WeChat runtime resolves no npm
// package, so scripts/build.mjs replaces this module's compiled output by one esbuild bundle of it,
// zod included (lib/pay-core.js), and every other file requires that by relative path.
import "./zod-jitless.js";

export { API_ROUTES, ApiErrorBodySchema, CONTRACT_VERSION, CONTRACT_VERSION_HEADER, MAX_LINE_QUANTITY } from "@pay/core/contract";
export { formatMoney } from "@pay/core/money";
