import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SANDBOX_CONTROL_PATHS, SANDBOX_CONTROL_ROUTES } from "../control/routes.js";
import { ControlErrorAnswerSchema } from "../control/schemas.js";
import { DIRECT, withSandbox } from "../../test/support/harness.js";

const P = SANDBOX_CONTROL_PATHS;

describe("the control API refuses what its schemas refuse", () => {
  it.each([
    ["pay without an outcome", P.pay, { prepay_id: "wx1" }, "Field outcome"],
    ["pay with an unknown outcome", P.pay, { prepay_id: "wx1", outcome: "refund" }, "Field outcome"],
    ["pay with an empty prepay_id", P.pay, { prepay_id: "", outcome: "success" }, "Field prepay_id"],
    ["pay with a field it does not take", P.pay, { prepay_id: "wx1", outcome: "success", amount: 1 }, "amount"],
    ["a login code without an appid", P.loginCodes, { user: "alice" }, "Field appid"],
    ["a login code for a user name over 64 characters", P.loginCodes, { appid: DIRECT.appId, user: "u".repeat(65) }, "Field user"],
    ["settling a refund back to PROCESSING", P.settleRefund, { mch_id: DIRECT.mchId, out_refund_no: "R1", status: "PROCESSING" }, "Field status"],
    ["settling a refund without mch_id", P.settleRefund, { out_refund_no: "R1", status: "SUCCESS" }, "Field mch_id"],
    ["a fault rule without faults", P.faults, { path: "*", faults: [] }, "Field faults"],
    ["a fault of an unknown kind", P.faults, { path: "*", faults: [{ kind: "explode" }] }, "Field faults.0.kind"],
    ["a fault rule used 0 times", P.faults, { path: "*", faults: [{ kind: "garbage" }], times: 0 }, "Field times"],
    ["a body that is not an object", P.pay, ["wx1", "success"], "Field body"],
  ])("answers 400 BAD_REQUEST naming the field for %s", async (_name, path, body, named) => {
    await withSandbox({}, async (sandbox) => {
      const response = await fetch(`${sandbox.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      expect(response.status).toBe(400);
      const answer = ControlErrorAnswerSchema.parse(await response.json());
      expect(answer.error.code).toBe("BAD_REQUEST");
      expect(answer.error.message).toContain(named);
    });
  });

  it("answers 400 for a body that is not JSON or is too large", async () => {
    await withSandbox({}, async (sandbox) => {
      const notJson = await fetch(`${sandbox.url}${P.pay}`, { method: "POST", body: "{" });
      expect(notJson.status).toBe(400);
      expect(await notJson.json()).toEqual({ error: { code: "BAD_REQUEST", message: "The body is not JSON." } });
      const large = await fetch(`${sandbox.url}${P.faults}`, { method: "POST", body: JSON.stringify({ path: "x".repeat(70 * 1024) }) });
      expect(large.status).toBe(400);
      expect(ControlErrorAnswerSchema.parse(await large.json()).error.message).toContain("too large");
    });
  });

  it.each([
    ["a delivery kind it does not know", `${P.deliveries}?kind=payment`, "Field kind"],
    ["a repeated out_trade_no", `${P.orders}?out_trade_no=T1&out_trade_no=T2`, "Field out_trade_no"],
  ])("answers 400 naming the query parameter for %s", async (_name, path, named) => {
    await withSandbox({}, async (sandbox) => {
      const response = await fetch(`${sandbox.url}${path}`);
      expect(response.status).toBe(400);
      expect(ControlErrorAnswerSchema.parse(await response.json()).error.message).toContain(named);
    });
  });

  it("answers 405 for a method a control path does not serve, and leaves gateway faults off control paths", async () => {
    await withSandbox({}, async (sandbox) => {
      expect((await fetch(`${sandbox.url}${P.pay}`)).status).toBe(405);
      const queued = await fetch(`${sandbox.url}${P.faults}`, { method: "POST", body: JSON.stringify({ path: "*", faults: [{ kind: "http", status: 503 }], times: 5 }) });
      expect(queued.status).toBe(SANDBOX_CONTROL_ROUTES.addFault.status);
      expect((await fetch(`${sandbox.url}${P.merchants}`)).status).toBe(SANDBOX_CONTROL_ROUTES.listMerchants.status);
    });
  });
});

describe("@pay/sandbox/control", () => {
  it("imports no Node built-in and nothing of the sandbox outside src/control (any Node 20 client can load it)", () => {
    const dir = join(import.meta.dirname, "..", "control");
    const sources = readdirSync(dir).filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"));
    expect(sources).toContain("index.ts");
    for (const file of sources) {
      const text = readFileSync(join(dir, file), "utf8");
      const imports = [...text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)";/gms)].map((m) => ({ typeOnly: m[2] !== undefined, from: m[3] ?? "" }));
      for (const { typeOnly, from } of imports) {
        const allowed = from === "zod" || from === "@pay/core/contract" || /^\.\/[\w-]+\.js$/.test(from) || (typeOnly && from === "@pay/core");
        expect(allowed, `${file} imports ${typeOnly ? "type " : ""}${from}`).toBe(true);
      }
    }
  });
});
