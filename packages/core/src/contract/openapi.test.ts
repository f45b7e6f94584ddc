import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CURRENCIES } from "../money/currency.js";
import { CurrencySchema } from "./common.js";
import { buildOpenApiDocument, openApiPath, type JsonObject, type JsonValue } from "./openapi.js";
import { API_ERROR_STATUS } from "./errors.js";
import { API_ROUTES, routeErrorCodes, type ApiRouteName, type ApiRouteSpec } from "./routes.js";
import { CONTRACT_VERSION } from "./version.js";
import { WEBHOOK_EVENT_TYPES } from "./webhook.js";

const COMMITTED = new URL("../../../../docs/openapi.json", import.meta.url);
const REGENERATE = "npx -y pnpm@10.34.9 openapi";
const ROUTE_NAMES = Object.keys(API_ROUTES) as ApiRouteName[];

const document = buildOpenApiDocument();
const json = JSON.parse(JSON.stringify(document)) as JsonObject;

function operationOf(name: ApiRouteName): JsonObject {
  const route = API_ROUTES[name];
  const paths = json.paths as Record<string, Record<string, JsonObject>>;
  const operation = paths[openApiPath(route.path)]?.[route.method.toLowerCase()];
  if (operation === undefined) throw new Error(`no operation for ${name}`);
  return operation;
}

function parametersOf(name: ApiRouteName): JsonObject[] {
  return operationOf(name).parameters as JsonObject[];
}

/** Every `$ref` string anywhere below `value`. */
function refsIn(value: JsonValue): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, inner]) => (key === "$ref" && typeof inner === "string" ? [inner] : refsIn(inner)));
}

/** Follows a local JSON pointer (`#/components/schemas/Order`) through the document. */
function resolve(pointer: string): JsonValue | undefined {
  if (!pointer.startsWith("#/")) return undefined;
  let at: JsonValue | undefined = json;
  for (const raw of pointer.slice(2).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    at = at !== null && typeof at === "object" && !Array.isArray(at) ? at[key] : undefined;
  }
  return at;
}

describe("docs/openapi.json", () => {
  it("is what the contract generates", () => {
    const committed = readFileSync(COMMITTED, "utf8");
    const generated = `${JSON.stringify(document, null, 2)}\n`;
    expect(committed === generated, `docs/openapi.json differs from what @pay/core/contract generates: run \`${REGENERATE}\` and commit the file.`).toBe(true);
  });
});

describe("the generated OpenAPI document", () => {
  it("is OpenAPI 3.1 at the contract's version", () => {
    expect(json.openapi).toBe("3.1.0");
    expect((json.info as JsonObject).version).toBe(CONTRACT_VERSION);
  });

  it("has one operation per route, and no other", () => {
    const operations = Object.entries(json.paths as Record<string, JsonObject>).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(ROUTE_NAMES.map((name) => `${API_ROUTES[name].method} ${openApiPath(API_ROUTES[name].path)}`).sort());
    for (const name of ROUTE_NAMES) expect(operationOf(name).operationId).toBe(name);
  });

  it("describes every order event as an OpenAPI webhook: signed headers, the event for its type as the body", () => {
    expect(Object.keys(document.webhooks)).toEqual([...WEBHOOK_EVENT_TYPES]);
    for (const type of WEBHOOK_EVENT_TYPES) {
      const post = document.webhooks[type]?.post as JsonObject;
      expect((post.parameters as JsonObject[]).map((parameter) => [parameter.name, parameter.in, parameter.required])).toEqual([
        ["Pay-Event-Id", "header", true],
        ["Pay-Event-Type", "header", true],
        ["Pay-Signature", "header", true],
      ]);
      expect(post.requestBody).toEqual({
        required: true,
        content: { "application/json": { schema: { allOf: [{ $ref: "#/components/schemas/WebhookEvent" }, { type: "object", properties: { type: { const: type } } }] } } },
      });
    }
    expect(document.components.schemas.WebhookEvent).toBeDefined();
  });

  it("resolves every $ref", () => {
    const refs = refsIn(json);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of new Set(refs)) expect(resolve(ref), ref).toBeDefined();
  });

  it("declares each path template's parameters as required path parameters", () => {
    for (const name of ROUTE_NAMES) {
      const template = [...openApiPath(API_ROUTES[name].path).matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = parametersOf(name).filter((p) => p.in === "path");
      expect(declared.map((p) => p.name)).toEqual(template);
      for (const p of declared) expect(p.required).toBe(true);
    }
    expect(parametersOf("getOrder").find((p) => p.name === "id")?.schema).toMatchObject({ type: "string", pattern: expect.any(String) as string });
  });

  it("spells out the list query, with its default", () => {
    const query = parametersOf("listOrders").filter((p) => p.in === "query");
    expect(query).toEqual([
      { name: "limit", in: "query", required: false, schema: { default: 20, type: "integer", minimum: 1, maximum: 100 } },
      { name: "cursor", in: "query", required: false, schema: { type: "string", maxLength: 200 } },
    ]);
  });

  it.each([
    ["createOrder", false],
    ["createRefund", true],
  ] as const)("%s takes an Idempotency-Key (required: %s); the other routes do not", (name, required) => {
    expect(parametersOf(name).find((p) => p.name === "Idempotency-Key")).toMatchObject({ in: "header", required, schema: { $ref: "#/components/schemas/IdempotencyKey" } });
    for (const other of ROUTE_NAMES.filter((n) => API_ROUTES[n].idempotencyKey === "none")) expect(parametersOf(other).some((p) => p.name === "Idempotency-Key")).toBe(false);
  });

  it("names the security scheme each route's auth needs: none, the user's session token, or the admin token or a staff session", () => {
    const backOffice = [{ adminToken: [] }, { staffSession: [] }];
    const expected = { none: [], user: [{ sessionToken: [] }], admin: backOffice, operator: backOffice };
    for (const name of ROUTE_NAMES) expect(operationOf(name).security, name).toEqual(expected[API_ROUTES[name].auth]);
    expect(Object.keys((json.components as JsonObject).securitySchemes as JsonObject).sort()).toEqual(["adminToken", "sessionToken", "staffSession"]);
    expect((json.components as JsonObject).securitySchemes).toMatchObject({ staffSession: { type: "apiKey", in: "cookie", name: "pay_console_session" } });
  });

  it("gives each route its body, success status and every error it can answer with, as ApiErrorBody", () => {
    for (const name of ROUTE_NAMES) {
      const route: ApiRouteSpec = API_ROUTES[name];
      const operation = operationOf(name);
      expect(operation.requestBody === undefined, name).toBe(
        route.method === "GET" || name === "renewPayment" || name === "closeOrder" || name === "runReconciliation" || name === "staffSignOut",
      );
      const responses = operation.responses as Record<string, JsonObject>;
      expect(Object.keys(responses)[0]).toBe(String(route.status));
      const successes = route.accepted === undefined ? 1 : 2;
      if (route.accepted !== undefined) expect(Object.keys(responses)[1]).toBe(String(route.accepted));
      const codes = routeErrorCodes(name);
      const statuses = [...new Set(codes.map((code) => String(API_ERROR_STATUS[code])))].sort();
      expect(Object.keys(responses).slice(successes).sort(), name).toEqual(statuses);
      for (const code of codes) {
        const answer = responses[String(API_ERROR_STATUS[code])];
        expect(JSON.stringify(answer), `${name} ${code}`).toContain(`"${code}"`);
        expect(refsIn(answer ?? {}), `${name} ${code}`).toContain("#/components/schemas/ApiErrorBody");
      }
      for (const answer of Object.values(responses)) expect(answer.headers).toEqual({ "X-Pay-Contract": { $ref: "#/components/headers/ContractVersion" } });
      expect(parametersOf(name)).toContainEqual({ $ref: "#/components/parameters/ContractVersion" });
    }
  });

  it("declares the orders export's answer as text/csv (a string), and every other route's success as JSON", () => {
    const exported = operationOf("exportAdminOrders").responses as Record<string, JsonObject>;
    expect(exported["200"]?.content).toEqual({ "text/csv": { schema: { type: "string" } } });
    for (const name of ROUTE_NAMES.filter((n) => n !== "exportAdminOrders")) {
      const responses = operationOf(name).responses as Record<string, JsonObject>;
      expect(Object.keys(responses[String(API_ROUTES[name].status)]?.content ?? {}), name).toEqual(["application/json"]);
    }
  });

  it("declares the 202 of runReconciliation beside its 200, with the same answer schema, and no other route's", () => {
    const responses = operationOf("runReconciliation").responses as Record<string, JsonObject>;
    expect(Object.keys(responses).slice(0, 2)).toEqual(["200", "202"]);
    expect(responses["202"]?.content).toEqual({ "application/json": { schema: { $ref: "#/components/schemas/GetReconciliationResponse" } } });
    expect(responses["202"]?.content).toEqual(responses["200"]?.content);
    for (const name of ROUTE_NAMES.filter((n) => n !== "runReconciliation")) expect(Object.keys(operationOf(name).responses as JsonObject), name).not.toContain("202");
  });

  it("spells out the reconciliation queries: from and to as days, a page of items with its limit and class", () => {
    expect(
      parametersOf("listReconciliations")
        .filter((p) => p.in === "query")
        .map((p) => [p.name, p.required]),
    ).toEqual([
      ["from", false],
      ["to", false],
    ]);
    const detail = parametersOf("getReconciliation");
    expect(detail.find((p) => p.in === "path")).toMatchObject({ name: "date", required: true, schema: { $ref: "#/components/schemas/ReconciliationDate" } });
    expect(detail.filter((p) => p.in === "query").map((p) => p.name)).toEqual(["cursor", "limit", "class"]);
    expect(detail.find((p) => p.name === "limit")?.schema).toEqual({ default: 100, type: "integer", minimum: 1, maximum: 500 });
  });

  it("derives each route's errors from its auth, input and own failures", () => {
    expect(routeErrorCodes("listProducts")).toEqual(["VALIDATION_FAILED", "UPGRADE_REQUIRED", "OVERLOADED", "INTERNAL"]);
    expect(routeErrorCodes("getOrder")).toEqual(["VALIDATION_FAILED", "UNAUTHORIZED", "NOT_FOUND", "UPGRADE_REQUIRED", "OVERLOADED", "INTERNAL"]);
    expect(routeErrorCodes("createRefund")).toEqual([
      "VALIDATION_FAILED",
      "UNAUTHORIZED",
      "FORBIDDEN",
      "NOT_FOUND",
      "PAYLOAD_TOO_LARGE",
      "UNSUPPORTED_MEDIA_TYPE",
      "ORDER_NOT_REFUNDABLE",
      "REFUND_EXCEEDS_PAID",
      "IDEMPOTENCY_CONFLICT",
      "CSRF_FAILED",
      "UPGRADE_REQUIRED",
      "GATEWAY_ERROR",
      "GATEWAY_UNAVAILABLE",
      "GATEWAY_TIMEOUT",
      "OVERLOADED",
      "INTERNAL",
    ]);
    // Sign-in is open, refused with its own code, and slowed down after failures; a console read takes no CSRF header.
    expect(routeErrorCodes("staffSignIn")).toEqual([
      "VALIDATION_FAILED",
      "PAYLOAD_TOO_LARGE",
      "UNSUPPORTED_MEDIA_TYPE",
      "SIGN_IN_FAILED",
      "UPGRADE_REQUIRED",
      "RATE_LIMITED",
      "OVERLOADED",
      "INTERNAL",
    ]);
    // The routes a client can flood are limited per user (orders) or per IP (sign-in).
    expect(routeErrorCodes("createSession")).toEqual([
      "VALIDATION_FAILED",
      "PAYLOAD_TOO_LARGE",
      "UNSUPPORTED_MEDIA_TYPE",
      "LOGIN_FAILED",
      "UPGRADE_REQUIRED",
      "RATE_LIMITED",
      "GATEWAY_UNAVAILABLE",
      "OVERLOADED",
      "INTERNAL",
    ]);
    expect(routeErrorCodes("createOrder")).toContain("RATE_LIMITED");
    expect(routeErrorCodes("renewPayment")).toContain("RATE_LIMITED");
    expect(routeErrorCodes("listAdminOrders")).toEqual(["VALIDATION_FAILED", "UNAUTHORIZED", "FORBIDDEN", "UPGRADE_REQUIRED", "OVERLOADED", "INTERNAL"]);
  });

  it("describes the currency as the enum of the codes @pay/core/money knows", () => {
    expect(((json.components as JsonObject).schemas as JsonObject).Currency).toEqual({ type: "string", enum: CURRENCIES });
  });
});

describe("CurrencySchema as an enum", () => {
  it.each(CURRENCIES)("accepts %s", (code) => {
    expect(CurrencySchema.parse(code)).toBe(code);
  });

  it.each([["XXX"], ["cny"], [""], ["toString"], ["__proto__"], [156], [null], [undefined], [{}]])("refuses %j as an unknown currency", (value) => {
    const parsed = CurrencySchema.safeParse(value);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe("unknown currency");
  });
});

describe("the contract folder", () => {
  it("imports no Node built-in outside its tests (it is bundled into the mini-program)", () => {
    const folder = new URL("./", import.meta.url);
    const sources = readdirSync(folder).filter((file) => file.endsWith(".ts") && !/\.test(-d)?\.ts$/.test(file));
    expect(sources).toContain("openapi.ts");
    for (const file of sources) expect(readFileSync(new URL(file, folder), "utf8"), file).not.toMatch(/from "(node:|fs|path|crypto|buffer|os|url)["/]/);
  });
});
