import { describe, expect, it } from "vitest";
import { createManualClock } from "../clock.js";
import type { RunningSandbox } from "../server.js";
import { SANDBOX_CONTROL_PATHS } from "../control/routes.js";
import type { LoginCodeAnswer } from "../control/schemas.js";
import { controlOf, DIRECT, INSTITUTION, withSandbox } from "../../test/support/harness.js";

async function issueCode(sandbox: RunningSandbox, appid: string, user = "alice"): Promise<LoginCodeAnswer> {
  return controlOf(sandbox).createLoginCode({ appid, user });
}

async function code2session(sandbox: RunningSandbox, params: Record<string, string>): Promise<Record<string, unknown>> {
  const query = new URLSearchParams({ grant_type: "authorization_code", ...params });
  return (await (await fetch(`${sandbox.url}/sns/jscode2session?${query.toString()}`)).json()) as Record<string, unknown>;
}

describe("/sns/jscode2session", () => {
  it("trades a code once for the user's stable openid and a session_key", async () => {
    await withSandbox({}, async (sandbox) => {
      const first = await issueCode(sandbox, DIRECT.appId);
      const session = await code2session(sandbox, { appid: DIRECT.appId, secret: "secret-direct", js_code: first.code });
      expect(session).toMatchObject({ openid: first.openid });
      expect(typeof session.session_key).toBe("string");
      expect(await code2session(sandbox, { appid: DIRECT.appId, secret: "secret-direct", js_code: first.code })).toMatchObject({ errcode: 40163 });
      const again = await issueCode(sandbox, DIRECT.appId);
      expect(again.openid).toBe(first.openid);
      expect((await issueCode(sandbox, DIRECT.appId, "bob")).openid).not.toBe(first.openid);
      // The same person has another openid under another Mini Program.
      expect((await issueCode(sandbox, INSTITUTION.subAppId)).openid).not.toBe(first.openid);
    });
  });

  it.each([
    ["an unknown appid", { appid: "wx_unknown", secret: "x", js_code: "c" }, 40013],
    ["a wrong secret", { appid: DIRECT.appId, secret: "wrong", js_code: "c" }, 40125],
    ["a missing code", { appid: DIRECT.appId, secret: "secret-direct", js_code: "" }, 41008],
    ["an unknown code", { appid: DIRECT.appId, secret: "secret-direct", js_code: "nope" }, 40029],
  ])("answers %s with errcode %i", async (_what, params, errcode) => {
    await withSandbox({}, async (sandbox) => {
      expect(await code2session(sandbox, params)).toMatchObject({ errcode });
    });
  });

  it("refuses an expired code and a code issued for another appid", async () => {
    const clock = createManualClock();
    await withSandbox({ clock }, async (sandbox) => {
      const issued = await issueCode(sandbox, DIRECT.appId);
      expect(await code2session(sandbox, { appid: INSTITUTION.subAppId, secret: "secret-mini", js_code: issued.code })).toMatchObject({ errcode: 40029 });
      await clock.advance(5 * 60 * 1000);
      expect(await code2session(sandbox, { appid: DIRECT.appId, secret: "secret-direct", js_code: issued.code })).toMatchObject({ errcode: 40029 });
    });
  });

  it("keeps openids across restarts when started with the same openidSeed", async () => {
    const seed = "seed-for-tests-0123456789";
    const first = await withSandbox({ openidSeed: seed }, async (sandbox) => (await issueCode(sandbox, DIRECT.appId, "alice")).openid);
    const again = await withSandbox({ openidSeed: seed }, async (sandbox) => (await issueCode(sandbox, DIRECT.appId, "alice")).openid);
    const other = await withSandbox({}, async (sandbox) => (await issueCode(sandbox, DIRECT.appId, "alice")).openid);
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    expect(first).toMatch(/^o[\w-]{27}$/);
  });

  it("refuses a login code for an appid without a secret", async () => {
    await withSandbox({}, async (sandbox) => {
      const response = await fetch(`${sandbox.url}${SANDBOX_CONTROL_PATHS.loginCodes}`, { method: "POST", body: JSON.stringify({ appid: "wx_unknown" }) });
      expect(response.status).toBe(400);
    });
  });
});
