import { z } from "zod";
import { CurrencySchema, MinorUnitsSchema, TimestampSchema } from "./common.js";
import { STAFF_SESSION_COOKIE } from "./console.js";
import { API_ERROR_STATUS, ApiErrorBodySchema, type ApiErrorCode } from "./errors.js";
import { IDEMPOTENCY_KEY_HEADER, IdempotencyKeySchema } from "./idempotency.js";
import { OrderItemSchema, OrderSchema, OrderStatusSchema } from "./order.js";
import { RequestPaymentParamsSchema } from "./payment.js";
import { ProductSchema } from "./product.js";
import { ReconciliationClassSchema, ReconciliationDateSchema, ReconciliationItemSchema, ReconciliationRunSummarySchema, ReconciliationTotalsSchema } from "./reconciliation.js";
import { RefundSchema, RefundStatusSchema } from "./refund.js";
import { API_ROUTES, NoBodySchema, routeErrorCodes, type ApiRouteName, type ApiRouteSpec } from "./routes.js";
import { CONTRACT_VERSION, CONTRACT_VERSION_HEADER } from "./version.js";
import { WEBHOOK_EVENT_TYPES, WebhookEventIdSchema, WebhookEventSchema, WebhookEventTypeSchema } from "./webhook.js";
import { WebhookDeliverySchema, WebhookDeliveryStateSchema, WebhookEndpointSchema } from "./webhook-endpoints.js";

/** A JSON Schema or OpenAPI object, as plain JSON. */
export type JsonObject = { [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/** The parts of an OpenAPI 3.1 document this generator writes. */
export interface OpenApiDocument {
  readonly openapi: "3.1.0";
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly paths: Record<string, Record<string, JsonObject>>;
  /** The order events the API POSTs to the shop's endpoints (OpenAPI 3.1 webhooks), one per event type. */
  readonly webhooks: Record<string, Record<string, JsonObject>>;
  readonly components: {
    readonly schemas: Record<string, JsonObject>;
    readonly securitySchemes: Record<string, JsonObject>;
    readonly parameters: Record<string, JsonObject>;
    readonly headers: Record<string, JsonObject>;
  };
}

/** The shared shapes, named once in components.schemas (the routes' bodies and answers are added by name). */
const NAMED_SCHEMAS: ReadonlyArray<readonly [string, z.ZodType]> = [
  ["ApiErrorBody", ApiErrorBodySchema],
  ["Currency", CurrencySchema],
  ["MinorUnits", MinorUnitsSchema],
  ["Timestamp", TimestampSchema],
  ["OrderStatus", OrderStatusSchema],
  ["OrderItem", OrderItemSchema],
  ["Order", OrderSchema],
  ["RequestPaymentParams", RequestPaymentParamsSchema],
  ["Product", ProductSchema],
  ["RefundStatus", RefundStatusSchema],
  ["Refund", RefundSchema],
  ["IdempotencyKey", IdempotencyKeySchema],
  ["WebhookEventType", WebhookEventTypeSchema],
  ["WebhookEventId", WebhookEventIdSchema],
  ["WebhookEvent", WebhookEventSchema],
  ["WebhookEndpoint", WebhookEndpointSchema],
  ["WebhookDeliveryState", WebhookDeliveryStateSchema],
  ["WebhookDelivery", WebhookDeliverySchema],
  ["ReconciliationDate", ReconciliationDateSchema],
  ["ReconciliationClass", ReconciliationClassSchema],
  ["ReconciliationTotals", ReconciliationTotalsSchema],
  ["ReconciliationItem", ReconciliationItemSchema],
  ["ReconciliationRunSummary", ReconciliationRunSummarySchema],
];

/** The POST of one order event to an endpoint (docs/webhooks.md): signed headers, the event as the body, any 2xx to accept it. */
function webhookOperation(type: (typeof WEBHOOK_EVENT_TYPES)[number]): JsonObject {
  const header = (name: string, description: string, schema: JsonObject): JsonObject => ({ name, in: "header", required: true, description, schema });
  return {
    operationId: `webhook:${type}`,
    summary: `The ${type} event, POSTed to each endpoint subscribed to it`,
    parameters: [
      header("Pay-Event-Id", "The event's id (not signed: trust the verified body's id); receivers dedupe by it, delivery is at least once.", ref("schemas", "WebhookEventId")),
      header("Pay-Event-Type", "The event's type (not signed: trust the verified body's type).", { const: type }),
      header(
        "Pay-Signature",
        "t=<unix seconds>,v1=<hex HMAC-SHA256 of t.body>; two v1 values during a secret rotation. Verify with verifyWebhook from @pay/core/webhooks, over the raw body.",
        {
          type: "string",
        },
      ),
    ],
    requestBody: {
      required: true,
      content: { "application/json": { schema: { allOf: [ref("schemas", "WebhookEvent"), { type: "object", properties: { type: { const: type } } }] } } },
    },
    responses: {
      "2XX": { description: "Received. Any other answer, a redirect or no answer within 10 s is retried (backoff from 10 s to 1 h, for 3 days)." },
    },
  };
}

const SECURITY: Record<ApiRouteSpec["auth"], JsonObject[]> = {
  none: [],
  user: [{ sessionToken: [] }],
  admin: [{ adminToken: [] }, { staffSession: [] }],
  operator: [{ adminToken: [] }, { staffSession: [] }],
};

const ref = (group: string, name: string): JsonObject => ({ $ref: `#/components/${group}/${name}` });

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** The path in OpenAPI's template form: `/api/orders/:id` -> `/api/orders/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z][A-Za-z0-9]*)/g, "{$1}");
}

interface Converted {
  /** components.schemas, params' and queries' object schemas included. */
  readonly schemas: Record<string, JsonObject>;
  readonly nameOf: (schema: z.ZodType) => string;
  /** The names of the params and query schemas, spelled out as parameters rather than referenced. */
  readonly parameterOnly: ReadonlySet<string>;
}

/**
 * Converts every named schema and every route's body, query, params and answer to JSON Schema in one
 * pass, so that shared shapes become `$ref`s. Input mode throughout: what the server accepts in a
 * request and what a client's schema accepts in an answer.
 */
function convertSchemas(): Converted {
  const registry = z.registry<{ id: string }>();
  const names = new Map<z.ZodType, string>();
  const parameterOnly = new Set<string>();
  const add = (name: string, schema: z.ZodType): string => {
    const known = names.get(schema);
    if (known !== undefined) return known;
    names.set(schema, name);
    registry.add(schema, { id: name });
    return name;
  };
  for (const [name, schema] of NAMED_SCHEMAS) add(name, schema);
  for (const [name, route] of routeEntries()) {
    if (route.body !== NoBodySchema) add(`${pascal(name)}Request`, route.body);
    if (route.query !== null) parameterOnly.add(add(`${pascal(name)}Query`, route.query));
    if (route.params !== null) parameterOnly.add(add(`${pascal(name)}Params`, route.params));
    add(`${pascal(name)}Response`, route.response);
  }
  const converted = z.toJSONSchema(registry, { io: "input", unrepresentable: "throw", uri: (id) => `#/components/schemas/${id}` });
  const schemas: Record<string, JsonObject> = {};
  for (const [name, schema] of Object.entries(converted.schemas)) {
    // OpenAPI 3.1 documents default to JSON Schema 2020-12; the per-schema dialect and id are noise there.
    const { $schema: _dialect, $id: _id, ...rest } = schema as JsonObject;
    schemas[name] = rest;
  }
  const nameOf = (schema: z.ZodType): string => {
    const name = names.get(schema);
    if (name === undefined) throw new Error("buildOpenApiDocument: a route's schema was not converted");
    return name;
  };
  return { schemas, nameOf, parameterOnly };
}

function routeEntries(): Array<readonly [ApiRouteName, ApiRouteSpec]> {
  return (Object.keys(API_ROUTES) as ApiRouteName[]).map((name) => [name, API_ROUTES[name]] as const);
}

/** Turns an object schema's properties into OpenAPI parameters of one location. */
function parametersOf(schema: JsonObject | undefined, where: "path" | "query"): JsonObject[] {
  if (schema === undefined) return [];
  const properties = (schema.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || required.has(name),
    schema: property,
  }));
}

function errorResponses(name: ApiRouteName): Record<string, JsonObject> {
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const code of routeErrorCodes(name)) {
    const status = API_ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, JsonObject> = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: codes.join(", "),
      headers: { [CONTRACT_VERSION_HEADER]: ref("headers", "ContractVersion") },
      content: {
        "application/json": {
          schema: { allOf: [ref("schemas", "ApiErrorBody"), { type: "object", properties: { error: { type: "object", properties: { code: { enum: codes } } } } }] },
        },
      },
    };
  }
  return responses;
}

function operation(name: ApiRouteName, route: ApiRouteSpec, { schemas, nameOf: schemaName }: Converted): JsonObject {
  const parameters: JsonObject[] = [
    ...parametersOf(route.params === null ? undefined : schemas[schemaName(route.params)], "path"),
    ...parametersOf(route.query === null ? undefined : schemas[schemaName(route.query)], "query"),
  ];
  if (route.idempotencyKey !== "none") {
    parameters.push({
      name: IDEMPOTENCY_KEY_HEADER,
      in: "header",
      required: route.idempotencyKey === "required",
      description:
        route.idempotencyKey === "required"
          ? "Required: a retry with the same key repeats nothing."
          : "Optional: a retry with the same key and body answers with the same result; another body under it is 422 IDEMPOTENCY_CONFLICT.",
      schema: ref("schemas", "IdempotencyKey"),
    });
  }
  parameters.push(ref("parameters", "ContractVersion"));
  return {
    operationId: name,
    summary: route.summary,
    security: SECURITY[route.auth],
    parameters,
    ...(route.body === NoBodySchema ? {} : { requestBody: { required: true, content: { "application/json": { schema: ref("schemas", schemaName(route.body)) } } } }),
    responses: {
      [String(route.status)]: {
        description: route.status === 201 ? "Created" : "OK",
        headers: { [CONTRACT_VERSION_HEADER]: ref("headers", "ContractVersion") },
        content:
          route.produces === undefined ? { "application/json": { schema: ref("schemas", schemaName(route.response)) } } : { [route.produces]: { schema: { type: "string" } } },
      },
      ...(route.accepted === undefined
        ? {}
        : {
            [String(route.accepted)]: {
              description: "Accepted: the work goes on; the answer shows where it stands (look again later)",
              headers: { [CONTRACT_VERSION_HEADER]: ref("headers", "ContractVersion") },
              content: { "application/json": { schema: ref("schemas", schemaName(route.response)) } },
            },
          }),
      ...errorResponses(name),
    },
  };
}

/**
 * The HTTP API as an OpenAPI 3.1 document, generated from API_ROUTES and its zod schemas, so that other
 * clients (a web shop, a native app) can be generated from the same contract. docs/openapi.json holds it.
 */
export function buildOpenApiDocument(): OpenApiDocument {
  const converted = convertSchemas();
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const [name, route] of routeEntries()) {
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(name, route, converted) };
  }
  const schemas = Object.fromEntries(Object.entries(converted.schemas).filter(([name]) => !converted.parameterOnly.has(name)));
  return {
    openapi: "3.1.0",
    info: {
      title: "WeChat Pay for Mini Programs: the payment API",
      version: CONTRACT_VERSION,
      description:
        "Generated from @pay/core/contract (API_ROUTES). Errors are {error:{code,message,field?}}; a path answers 405 METHOD_NOT_ALLOWED to a method it does not take, and an unknown path 404 NOT_FOUND.",
    },
    paths,
    webhooks: Object.fromEntries(WEBHOOK_EVENT_TYPES.map((type) => [type, { post: webhookOperation(type) }])),
    components: {
      schemas,
      securitySchemes: {
        sessionToken: { type: "http", scheme: "bearer", description: "A user's session token from POST /api/session." },
        adminToken: { type: "http", scheme: "bearer", description: "The back office's ADMIN_TOKEN (automation; may do what an operator may)." },
        staffSession: {
          type: "apiKey",
          in: "cookie",
          name: STAFF_SESSION_COOKIE,
          description: "A staff member's console session from POST /api/admin/session; state-changing calls also send the x-csrf-token header it answered.",
        },
      },
      parameters: {
        ContractVersion: {
          name: CONTRACT_VERSION_HEADER,
          in: "header",
          required: false,
          description: `The client's contract version (this document's is ${CONTRACT_VERSION}). The previous release line is served with Deprecation: true; an unsupported one is 426 UPGRADE_REQUIRED.`,
          schema: { type: "string" },
        },
      },
      headers: {
        ContractVersion: { description: "The server's contract version, on every response.", schema: { type: "string" } },
      },
    },
  };
}
