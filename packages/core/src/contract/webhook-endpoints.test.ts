import { describe, expect, expectTypeOf, it } from "vitest";
import { API_ROUTES, routeErrorCodes, type ApiRequestBody, type ApiResponseBody } from "./routes.js";
import {
  CreateWebhookEndpointRequestSchema,
  ReplayFailedWebhookDeliveriesRequestSchema,
  ReplayWebhookEventRequestSchema,
  RotateWebhookSecretRequestSchema,
  UpdateWebhookEndpointRequestSchema,
  WebhookDeliveryListQuerySchema,
  WebhookEndpointIdSchema,
  WebhookEndpointSchema,
  WebhookSecretSchema,
  type WebhookEndpoint,
} from "./webhook-endpoints.js";

const WEBHOOK_ROUTES = [
  "createWebhookEndpoint",
  "listWebhookEndpoints",
  "getWebhookEndpoint",
  "updateWebhookEndpoint",
  "rotateWebhookSecret",
  "listWebhookDeliveries",
  "replayWebhookEvent",
  "replayFailedWebhookDeliveries",
] as const;

/** The path of the first issue, as the API names the field. */
function fieldOf(result: { success: boolean; error?: { issues: ReadonlyArray<{ path: PropertyKey[] }> } }): string | undefined {
  return result.error?.issues[0]?.path.map(String).join(".");
}

describe("webhook endpoint routes", () => {
  it.each(WEBHOOK_ROUTES)("%s is for the back office only: reads for any staff, changes for operators", (name) => {
    expect(API_ROUTES[name].auth).toBe(API_ROUTES[name].method === "GET" ? "admin" : "operator");
    expect(API_ROUTES[name].path.startsWith("/api/admin/webhook-")).toBe(true);
    expect(routeErrorCodes(name)).toEqual(expect.arrayContaining(["UNAUTHORIZED", "FORBIDDEN", "VALIDATION_FAILED"]));
  });

  it("answers the secret only on create (201) and rotate: no other answer has a field that could hold it", () => {
    expect(API_ROUTES.createWebhookEndpoint.status).toBe(201);
    expect(Object.keys(WebhookEndpointSchema.shape).sort()).toEqual(
      ["createdAt", "description", "enabled", "eventTypes", "id", "previousSecretExpiresAt", "source", "updatedAt", "url"].sort(),
    );
    for (const name of WEBHOOK_ROUTES) {
      const shape = JSON.stringify(Object.keys((API_ROUTES[name].response as unknown as { shape: Record<string, unknown> }).shape));
      expect(shape.includes("secret"), name).toBe(name === "createWebhookEndpoint" || name === "rotateWebhookSecret");
    }
    expectTypeOf<ApiResponseBody<"createWebhookEndpoint">>().toEqualTypeOf<{ endpoint: WebhookEndpoint; secret: string }>();
    expectTypeOf<ApiResponseBody<"listWebhookEndpoints">>().toEqualTypeOf<{ endpoints: WebhookEndpoint[] }>();
    expectTypeOf<ApiRequestBody<"rotateWebhookSecret">>().toEqualTypeOf<{ previousSecretExpiresInSeconds?: number | undefined } | undefined>();
  });
});

describe("webhook endpoint schemas", () => {
  it("takes we_ + 24 letters or digits, or we_env, as an endpoint id", () => {
    for (const id of ["we_env", "we_0123456789abcdefABCDEF01"]) expect(WebhookEndpointIdSchema.safeParse(id).success, id).toBe(true);
    for (const id of ["we_", "we_ENV", "we_0123456789abcdefABCDEF0", "we_0123456789abcdefABCDEF012", "evt_0123456789abcdefABCDEF01", "we_env/../x"]) {
      expect(WebhookEndpointIdSchema.safeParse(id).success, id).toBe(false);
    }
  });

  it("a secret is whsec_ and 43 base64url characters (32 bytes)", () => {
    expect(WebhookSecretSchema.safeParse(`whsec_${"A".repeat(42)}_`).success).toBe(true);
    expect(WebhookSecretSchema.safeParse(`whsec_${"A".repeat(42)}`).success).toBe(false);
    expect(WebhookSecretSchema.safeParse(`whsec_${"A".repeat(42)}=`).success).toBe(false);
  });

  it("a new endpoint names a URL and at least one known event type, each once; no other field", () => {
    const ok = CreateWebhookEndpointRequestSchema.safeParse({ url: "https://shop.example.com/hooks", eventTypes: ["order.paid", "refund.succeeded"], description: "fulfilment" });
    expect(ok.success).toBe(true);
    const cases: Array<[unknown, string]> = [
      [{ url: "https://a.example", eventTypes: [] }, "eventTypes"],
      [{ url: "https://a.example", eventTypes: ["order.shipped"] }, "eventTypes.0"],
      [{ url: "https://a.example", eventTypes: ["order.paid", "order.paid"] }, "eventTypes"],
      [{ url: "", eventTypes: ["order.paid"] }, "url"],
      [{ url: `https://a.example/${"x".repeat(2048)}`, eventTypes: ["order.paid"] }, "url"],
      [{ eventTypes: ["order.paid"] }, "url"],
      [{ url: "https://a.example", eventTypes: ["order.paid"], description: "d".repeat(201) }, "description"],
    ];
    for (const [body, field] of cases) {
      const parsed = CreateWebhookEndpointRequestSchema.safeParse(body);
      expect(parsed.success, JSON.stringify(body)).toBe(false);
      expect(fieldOf(parsed), JSON.stringify(body)).toBe(field);
    }
    const extra = CreateWebhookEndpointRequestSchema.safeParse({ url: "https://a.example", eventTypes: ["order.paid"], secret: "mine" });
    expect(extra.error?.issues[0]?.code).toBe("unrecognized_keys");
  });

  it("an update names at least one field; enabled false disables, description null clears", () => {
    expect(UpdateWebhookEndpointRequestSchema.safeParse({}).success).toBe(false);
    expect(UpdateWebhookEndpointRequestSchema.safeParse(undefined).success).toBe(false);
    expect(UpdateWebhookEndpointRequestSchema.parse({ enabled: false })).toEqual({ enabled: false });
    expect(UpdateWebhookEndpointRequestSchema.parse({ description: null })).toEqual({ description: null });
    expect(UpdateWebhookEndpointRequestSchema.safeParse({ eventTypes: [] }).success).toBe(false);
    expect(UpdateWebhookEndpointRequestSchema.safeParse({ enabled: "false" }).success).toBe(false);
  });

  it("a rotation keeps the previous secret 24 h unless told (0 to 7 days); an empty body takes the default", () => {
    expect(RotateWebhookSecretRequestSchema.parse(undefined)).toEqual({ previousSecretExpiresInSeconds: 86_400 });
    expect(RotateWebhookSecretRequestSchema.parse({})).toEqual({ previousSecretExpiresInSeconds: 86_400 });
    expect(RotateWebhookSecretRequestSchema.parse({ previousSecretExpiresInSeconds: 0 })).toEqual({ previousSecretExpiresInSeconds: 0 });
    expect(RotateWebhookSecretRequestSchema.parse({ previousSecretExpiresInSeconds: 604_800 })).toEqual({ previousSecretExpiresInSeconds: 604_800 });
    for (const bad of [-1, 604_801, 1.5, "60"]) expect(RotateWebhookSecretRequestSchema.safeParse({ previousSecretExpiresInSeconds: bad }).success, String(bad)).toBe(false);
  });

  it("replays take an optional endpoint; replaying failed deliveries needs a timestamp", () => {
    expect(ReplayWebhookEventRequestSchema.parse(undefined)).toEqual({});
    expect(ReplayWebhookEventRequestSchema.parse({ endpointId: "we_env" })).toEqual({ endpointId: "we_env" });
    expect(ReplayWebhookEventRequestSchema.safeParse({ endpointId: "nope" }).success).toBe(false);
    expect(ReplayFailedWebhookDeliveriesRequestSchema.safeParse({ since: "2026-01-01T00:00:00+08:00" }).success).toBe(true);
    expect(fieldOf(ReplayFailedWebhookDeliveriesRequestSchema.safeParse({ since: "yesterday" }))).toBe("since");
    expect(fieldOf(ReplayFailedWebhookDeliveriesRequestSchema.safeParse({}))).toBe("since");
  });

  it("the deliveries query takes a state, a limit of 1 to 100 (default 20) and a cursor", () => {
    expect(WebhookDeliveryListQuerySchema.parse({})).toEqual({ limit: 20 });
    expect(WebhookDeliveryListQuerySchema.parse({ state: "failed", limit: "5" })).toEqual({ state: "failed", limit: 5 });
    for (const bad of [{ state: "lost" }, { limit: "0" }, { limit: "101" }, { other: "1" }])
      expect(WebhookDeliveryListQuerySchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });
});
