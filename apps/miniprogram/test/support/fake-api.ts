import {
  OrderListResponseSchema,
  OrderPaymentResponseSchema,
  OrderResponseSchema,
  ProductListResponseSchema,
  SessionResponseSchema,
  type Order,
  type Product,
} from "@pay/core/contract";
import type { ClientRouteName } from "../../src/api/client.js";
import { apiError, json, type FakeAnswer, type RecordedRequest } from "./fake-platform.js";

/**
 * An in-memory API for page and service tests: the contract's routes with just enough behaviour
 * (sessions, idempotent order creation, pending -> paid/closed). Every answer is parsed with the
 * contract's own schemas first, so the fake cannot drift from what the real API may send.
 */
export interface FakeApi {
  readonly products: Product[];
  readonly orders: Map<string, Order>;
  /** Valid session tokens; delete one to make the API answer 401. */
  readonly tokens: Set<string>;
  handle(request: RecordedRequest): FakeAnswer;
  /** The next call of `route` gets `answer` instead (queued, one per call). */
  once(route: ClientRouteName, answer: FakeAnswer): void;
  /** Stores an order as if the user had placed it earlier. */
  seedOrder(status?: Order["status"], lines?: readonly { readonly productId: string; readonly quantity: number }[]): Order;
  /** Marks an order paid, as a notify would. */
  markPaid(id: string): void;
}

export const FAKE_PRODUCTS: Product[] = [
  { id: "coffee-beans", name: "Coffee beans", price: 4_800, currency: "CNY" },
  { id: "tea", name: "Tea", price: 1_250, currency: "CNY" },
];

const ROUTES: readonly (readonly [ClientRouteName, string, RegExp])[] = [
  ["createSession", "POST", /^\/api\/session$/],
  ["listProducts", "GET", /^\/api\/products$/],
  ["createOrder", "POST", /^\/api\/orders$/],
  ["listOrders", "GET", /^\/api\/orders$/],
  ["getOrder", "GET", /^\/api\/orders\/([^/]+)$/],
  ["renewPayment", "POST", /^\/api\/orders\/([^/]+)\/payment$/],
  ["closeOrder", "POST", /^\/api\/orders\/([^/]+)\/close$/],
];

function paymentFor(order: Order) {
  return { timeStamp: "1700000000", nonceStr: "fakenonce", package: `prepay_id=wx${order.id}`, signType: "HMAC-SHA256" as const, paySign: "A".repeat(64) };
}

export function createFakeApi(products: Product[] = FAKE_PRODUCTS): FakeApi {
  const orders = new Map<string, Order>();
  const tokens = new Set<string>();
  const keys = new Map<string, string>();
  const overrides = new Map<ClientRouteName, FakeAnswer[]>();
  let sequence = 0;

  function user(request: RecordedRequest): boolean {
    const token = /^Bearer (.+)$/.exec(request.header.Authorization ?? "")?.[1];
    return token !== undefined && tokens.has(token);
  }

  function find(id: string | undefined): Order | undefined {
    return id === undefined ? undefined : orders.get(decodeURIComponent(id));
  }

  function place(status: Order["status"], lines: readonly { readonly productId: string; readonly quantity: number }[]): Order {
    const items = lines.map((line) => {
      const product = products.find((p) => p.id === line.productId);
      if (product === undefined) throw new Error(`fake API: no product ${line.productId}`);
      return { productId: product.id, name: product.name, quantity: line.quantity, unitPrice: product.price };
    });
    sequence += 1;
    const order: Order = {
      id: `P2026010100${String(sequence).padStart(4, "0")}`,
      status,
      totalFee: items.reduce((sum, item) => sum + item.unitPrice * item.quantity, 0),
      refundedFee: 0,
      feeType: products[0]?.currency ?? "CNY",
      items,
      createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, sequence)).toISOString(),
      paidAt: status === "paid" ? new Date(Date.UTC(2026, 0, 1, 0, 1, sequence)).toISOString() : null,
      transactionId: status === "paid" ? `42000000002026010100000${String(sequence).padStart(5, "0")}` : null,
    };
    orders.set(order.id, OrderResponseSchema.parse({ order }).order);
    return order;
  }

  function route(name: ClientRouteName, request: RecordedRequest, id: string | undefined): FakeAnswer {
    switch (name) {
      case "createSession": {
        sequence += 1;
        const token = `token-${sequence}`;
        tokens.add(token);
        return json(200, SessionResponseSchema.parse({ token, expiresAt: "2099-01-01T00:00:00.000Z" }));
      }
      case "listProducts":
        return json(200, ProductListResponseSchema.parse({ products }));
      case "createOrder": {
        const key = request.header["Idempotency-Key"];
        const existing = key === undefined ? undefined : orders.get(keys.get(key) ?? "");
        if (existing !== undefined) return json(201, OrderPaymentResponseSchema.parse({ order: existing, payment: paymentFor(existing) }));
        const order = place("pending", (request.body as { items: { productId: string; quantity: number }[] }).items);
        if (key !== undefined) keys.set(key, order.id);
        return json(201, OrderPaymentResponseSchema.parse({ order, payment: paymentFor(order) }));
      }
      case "listOrders": {
        const list = [...orders.values()].reverse();
        return json(200, OrderListResponseSchema.parse({ orders: list, nextCursor: null }));
      }
      case "getOrder": {
        const order = find(id);
        return order === undefined ? apiError(404, "NOT_FOUND", `No order ${id ?? ""}.`) : json(200, OrderResponseSchema.parse({ order }));
      }
      case "renewPayment": {
        const order = find(id);
        if (order === undefined) return apiError(404, "NOT_FOUND", `No order ${id ?? ""}.`);
        if (order.status !== "pending") return apiError(409, "ORDER_NOT_PAYABLE", `Order ${order.id} is ${order.status}; it cannot be paid.`);
        return json(200, OrderPaymentResponseSchema.parse({ order, payment: paymentFor(order) }));
      }
      case "closeOrder": {
        const order = find(id);
        if (order === undefined) return apiError(404, "NOT_FOUND", `No order ${id ?? ""}.`);
        if (order.status === "paid") return apiError(409, "ORDER_NOT_CLOSABLE", `Order ${order.id} is paid; it cannot be closed.`);
        const closed: Order = { ...order, status: "closed" };
        orders.set(closed.id, closed);
        return json(200, OrderResponseSchema.parse({ order: closed }));
      }
    }
  }

  return {
    products,
    orders,
    tokens,
    handle(request) {
      for (const [name, method, pattern] of ROUTES) {
        const match = pattern.exec(request.path);
        if (match === null || method !== request.method) continue;
        const queued = overrides.get(name)?.shift();
        if (queued !== undefined) return queued;
        if (name !== "createSession" && name !== "listProducts" && !user(request))
          return apiError(401, "UNAUTHORIZED", "The session token is invalid or has expired; sign in again.");
        return route(name, request, match[1]);
      }
      return apiError(404, "NOT_FOUND", `No route for ${request.method} ${request.path}.`);
    },
    once(name, answer) {
      overrides.set(name, [...(overrides.get(name) ?? []), answer]);
    },
    seedOrder(status = "pending", lines = [{ productId: products[0]?.id ?? "", quantity: 1 }]) {
      return place(status, lines);
    },
    markPaid(id) {
      const order = orders.get(id);
      if (order === undefined) throw new Error(`fake API: no order ${id}`);
      orders.set(id, { ...order, status: "paid", paidAt: "2026-01-01T00:01:00.000+00:00", transactionId: "4200000000202601010000000001" });
    },
  };
}
