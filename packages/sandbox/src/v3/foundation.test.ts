import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decryptV3Certificates, V3CertificatesAnswerSchema, parseV3Answer } from "@pay/core";
import { startSandbox, type RunningSandbox } from "../server.js";
import { V3_CERTIFICATE, V3_DIRECT, v3Client } from "../../test/support/v3.js";

describe("v3 gateway foundation", () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ merchants: [V3_DIRECT, V3_CERTIFICATE] });
  });
  afterAll(() => sandbox.stop());

  it("answers GET /v3/certificates 404 RESOURCE_NOT_EXISTS for a public-key merchant", async () => {
    const answer = await v3Client(sandbox, V3_DIRECT.mchId).send({ target: "/v3/certificates" });
    expect(answer.status).toBe(404);
    expect(answer.json).toMatchObject({ code: "RESOURCE_NOT_EXISTS" });
  });

  it("serves the platform certificates encrypted with the APIv3 key, signed by the newest one", async () => {
    const client = v3Client(sandbox, V3_CERTIFICATE.mchId);
    const answer = await client.send({ target: "/v3/certificates" });
    expect(answer.status).toBe(200);
    const verified = client.verify(answer);
    expect(verified.ok).toBe(true);
    const parsed = parseV3Answer(V3CertificatesAnswerSchema, answer.text);
    expect(parsed.ok).toBe(true);
    const list = decryptV3Certificates(answer.text, { apiV3Key: V3_CERTIFICATE.v3.apiV3Key, now: sandbox.context.clock.now() });
    if (!list.ok) throw new Error(list.error.message);
    expect(list.value.valid.map((c) => c.serial)).toEqual(sandbox.context.v3.liveCertificates(client.identity, sandbox.context.clock.now()).map((c) => c.serial));
    expect(answer.headers.get("wechatpay-serial")).toBe(list.value.valid[0]?.serial);
  });

  it("refuses a request without Authorization with 401 SIGN_ERROR", async () => {
    const answer = await v3Client(sandbox, V3_DIRECT.mchId).send({ target: "/v3/certificates", headers: { authorization: undefined } });
    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ code: "SIGN_ERROR" });
  });
});
