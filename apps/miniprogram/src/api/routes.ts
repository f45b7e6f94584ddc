import type { ApiRoutes } from "@pay/core/contract";

/** The routes the mini-program calls (the admin routes are the back office's, never the client's). */
export type ClientRouteName = "createSession" | "listProducts" | "createOrder" | "listOrders" | "getOrder" | "renewPayment" | "closeOrder";

/**
 * Method, path, auth and success status of each route. The contract's API_ROUTES carries zod schemas
 * the WeChat runtime cannot load, so this copy holds the plain parts, and `satisfies` pins every one
 * of them to the contract's literal types: a path changed on the server fails to compile here.
 */
export const CLIENT_ROUTES = {
  createSession: { method: "POST", path: "/api/session", auth: "none", status: 200 },
  listProducts: { method: "GET", path: "/api/products", auth: "none", status: 200 },
  createOrder: { method: "POST", path: "/api/orders", auth: "user", status: 201 },
  listOrders: { method: "GET", path: "/api/orders", auth: "user", status: 200 },
  getOrder: { method: "GET", path: "/api/orders/:id", auth: "user", status: 200 },
  renewPayment: { method: "POST", path: "/api/orders/:id/payment", auth: "user", status: 200 },
  closeOrder: { method: "POST", path: "/api/orders/:id/close", auth: "user", status: 200 },
} as const satisfies { readonly [N in ClientRouteName]: Pick<ApiRoutes[N], "method" | "path" | "auth" | "status"> };

/** The `:name` segments of a route path, as a union of names (never when there are none). */
export type PathParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}` ? Name | PathParamNames<`/${Rest}`> : P extends `${string}:${infer Name}` ? Name : never;

/** Fills a route path's `:name` segments, URL-encoded. */
export function fillPath(path: string, params: Readonly<Record<string, string>>): string {
  return path.replace(/:([A-Za-z]+)/g, (_match, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`fillPath: no value for :${name} in ${path}`);
    return encodeURIComponent(value);
  });
}
