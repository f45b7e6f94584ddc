import { generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadVectorsV3 } from "../../../test/support/reference.js";
import { createV3Signer } from "./signer.js";
import { verifyV3RequestSignature, type V3RequestVerifyErrorCode } from "./verify-request.js";

const v = loadVectorsV3();
const r = v.requestSignature;
const sample = v.merchantSampleKey;
const timestamp = Number(r.timestamp);
const documented = { authorization: r.authorization, method: r.method, urlPath: r.urlPath, body: r.body, publicKey: sample.publicKeyPem, now: timestamp * 1000 };

describe("verifyV3RequestSignature", () => {
  it("accepts the documented request and header", () => {
    expect(verifyV3RequestSignature(documented)).toEqual({
      ok: true,
      value: { mchId: sample.mchid, nonce: r.nonce, timestamp, serialNo: sample.serialNo, signature: r.signature },
    });
  });

  it("accepts 299 s and 300 s of skew either way, refuses 301 s", () => {
    for (const skew of [-300, -299, 299, 300]) expect(verifyV3RequestSignature({ ...documented, now: (timestamp + skew) * 1000 }).ok).toBe(true);
    for (const skew of [-301, 301])
      expect(verifyV3RequestSignature({ ...documented, now: (timestamp + skew) * 1000 })).toMatchObject({ ok: false, error: { code: "REQUEST_TIMESTAMP_SKEW" } });
  });

  const refusals: [string, Partial<typeof documented>, V3RequestVerifyErrorCode][] = [
    ["no header", { authorization: "" }, "AUTHORIZATION_MISSING"],
    ["a garbled header", { authorization: r.authorization.replace(",", ";") }, "AUTHORIZATION_MALFORMED"],
    ["a re-serialised body (spacing changed)", { body: JSON.stringify(JSON.parse(r.body), null, 1) }, "REQUEST_SIGNATURE_MISMATCH"],
    ["the query left out of the target", { urlPath: `${r.urlPath}?mchid=1900007291` }, "REQUEST_SIGNATURE_MISMATCH"],
    ["another verb", { method: "PUT" }, "REQUEST_SIGNATURE_MISMATCH"],
    ["a lower-case verb", { method: "post" }, "REQUEST_TARGET_INVALID"],
    [
      "another merchant's key",
      { publicKey: generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" }).toString() },
      "REQUEST_SIGNATURE_MISMATCH",
    ],
  ];

  it.each(refusals)("refuses %s", (_name, change, code) => {
    expect(verifyV3RequestSignature({ ...documented, ...change })).toMatchObject({ ok: false, error: { code } });
  });

  it("round-trips whatever createV3Signer signs (property)", () => {
    const signer = createV3Signer({ mchId: sample.mchid, serialNo: sample.serialNo, privateKey: sample.privateKeyPem });
    fc.assert(
      fc.property(
        fc.constantFrom("GET", "POST", "DELETE"),
        fc.stringMatching(/^\/v3\/[\x21-\x7e]{0,40}$/),
        fc.string({ maxLength: 80 }),
        fc.integer({ min: 0, max: 4_102_444_800 }),
        (method, urlPath, raw, at) => {
          const body = method === "GET" ? "" : raw;
          const { authorization } = signer.signRequest({ method, urlPath, body, now: at * 1000 });
          expect(verifyV3RequestSignature({ authorization, method, urlPath, body, publicKey: sample.publicKeyPem, now: at * 1000 }).ok).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });
});
