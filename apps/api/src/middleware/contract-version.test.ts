import { CONTRACT_VERSION, CONTRACT_VERSION_HEADER } from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiHarness, type ApiHarness } from "../../test/support/api-harness.js";

function otherLine(version: string, step: number): string {
  const [major, minor] = version.split(".").map(Number) as [number, number];
  return major === 0 ? `0.${minor + step}.0` : `${major + step}.0.0`;
}

describe("contract version handshake", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness("sqlite");
  });
  afterAll(async () => {
    await h.close();
  });

  it("answers every response, errors and notifies included, with its contract version", async () => {
    for (const [method, path] of [
      ["GET", "/api/products"],
      ["GET", "/api/orders"],
      ["GET", "/healthz"],
      ["POST", "/wxpay/notify"],
    ] as const) {
      const answer = await h.request(method, path);
      expect(answer.headers.get(CONTRACT_VERSION_HEADER)).toBe(CONTRACT_VERSION);
    }
  });

  it("serves the current line, serves the previous one marked deprecated, and refuses others with 426", async () => {
    const current = await h.request("GET", "/api/products", { headers: { [CONTRACT_VERSION_HEADER]: CONTRACT_VERSION } });
    expect(current.status).toBe(200);
    expect(current.headers.get("deprecation")).toBeNull();

    const [major] = CONTRACT_VERSION.split(".").map(Number) as [number];
    const previous = major === 0 ? `0.${Number(CONTRACT_VERSION.split(".")[1]) - 1}.0` : `${major - 1}.0.0`;
    const deprecated = await h.request("GET", "/api/products", { headers: { [CONTRACT_VERSION_HEADER]: previous } });
    expect(deprecated.status).toBe(200);
    expect(deprecated.headers.get("deprecation")).toBe("true");

    // A newer line than the server's, and one far in the past (or future).
    for (const version of [otherLine(CONTRACT_VERSION, 1), "99.0.0"]) {
      const refused = await h.request("GET", "/api/products", { headers: { [CONTRACT_VERSION_HEADER]: version } });
      expect(refused.status).toBe(426);
      expect(refused.body).toMatchObject({ error: { code: "UPGRADE_REQUIRED" } });
      expect((refused.body.error as { message: string }).message).toContain("please update");
    }
  });

  it("refuses a malformed version with a 400 naming the header", async () => {
    const answer = await h.request("GET", "/api/products", { headers: { [CONTRACT_VERSION_HEADER]: "latest" } });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: "VALIDATION_FAILED", field: CONTRACT_VERSION_HEADER } });
  });
});
