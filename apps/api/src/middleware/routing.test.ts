import { CONTRACT_VERSION, CONTRACT_VERSION_HEADER } from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiHarness, type ApiHarness } from "../../test/support/api-harness.js";

/**
 * Which part of the app answers which path and method (createApp gates the notify, health and console
 * middlewares by path): each answer keeps its status, code and the headers every response carries.
 */
describe("the app's routing", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness("sqlite");
  });
  afterAll(async () => {
    await h.close();
  });

  async function answer(method: string, path: string): Promise<{ status: number; code: string | undefined; type: string | null; headers: Headers }> {
    const response = await fetch(`${h.url}${path}`, { method, headers: { [CONTRACT_VERSION_HEADER]: CONTRACT_VERSION } });
    const text = await response.text();
    const type = response.headers.get("content-type");
    let code: string | undefined;
    if (type?.startsWith("application/json") === true && text !== "") code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
    return { status: response.status, code, type, headers: response.headers };
  }

  it.each([
    ["GET", "/healthz", 200, undefined],
    ["GET", "/HEALTHZ", 200, undefined],
    ["GET", "/healthz/", 200, undefined],
    ["GET", "/readyz", 200, undefined],
    ["GET", "/Readyz", 200, undefined],
    ["POST", "/healthz", 405, "METHOD_NOT_ALLOWED"],
    ["GET", "/healthzz", 404, "NOT_FOUND"],
    ["GET", "/wxpay/notify", 405, "METHOD_NOT_ALLOWED"],
    ["GET", "/WXPAY/refund-notify", 405, "METHOD_NOT_ALLOWED"],
    ["GET", "/wxpay/nothing-here", 404, "NOT_FOUND"],
    ["GET", "/api/nothing-here", 404, "NOT_FOUND"],
    ["DELETE", "/api/products", 405, "METHOD_NOT_ALLOWED"],
    ["GET", "/api/products", 200, undefined],
    ["POST", "/console", 405, undefined],
    ["GET", "/consoles", 404, "NOT_FOUND"],
    ["GET", "/", 404, "NOT_FOUND"],
  ] as const)("%s %s answers %i %s", async (method, path, status, code) => {
    const got = await answer(method, path);
    expect({ status: got.status, code: got.code }).toEqual({ status, code });
    expect(got.headers.get(CONTRACT_VERSION_HEADER)).toBe(CONTRACT_VERSION);
    expect(got.headers.get("x-request-id")).toMatch(/^[\w-]{1,64}$/);
  });

  it("answers a notify on its own route with XML, not the JSON error body", async () => {
    const got = await answer("POST", "/wxpay/notify");
    expect(got.type).toMatch(/xml/);
    expect(got.headers.get(CONTRACT_VERSION_HEADER)).toBe(CONTRACT_VERSION);
  });

  it("refuses an unsupported contract version on an /api path only", async () => {
    const refused = await fetch(`${h.url}/api/products`, { headers: { [CONTRACT_VERSION_HEADER]: "99.0.0" } });
    expect(refused.status).toBe(426);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("UPGRADE_REQUIRED");
    const health = await fetch(`${h.url}/healthz`, { headers: { [CONTRACT_VERSION_HEADER]: "99.0.0" } });
    expect(health.status).toBe(200);
  });
});
