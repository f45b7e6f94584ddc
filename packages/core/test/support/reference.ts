import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface SignVector {
  readonly id: string;
  readonly source: string;
  readonly published: boolean;
  readonly signType: "MD5" | "HMAC-SHA256";
  readonly key: string;
  readonly params: Record<string, string>;
  readonly stringToSign: string;
  readonly expected: string;
}

export interface RefundReqInfoVector {
  readonly apiKey: string;
  readonly aesKey: string;
  readonly appid: string;
  readonly mch_id: string;
  readonly reqInfo: string;
  readonly plaintext: string;
}

export interface ReferenceVectors {
  readonly signs: readonly SignVector[];
  readonly refundReqInfo: RefundReqInfoVector;
}

/** Finds `shared/reference` beside the repository (or PAY_SHARED_DIR), walking up from here. */
export function referenceDir(): string {
  const override = process.env.PAY_SHARED_DIR;
  if (override !== undefined && override !== "") return join(resolve(override), "reference");
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "shared", "reference", "vectors.json");
    if (existsSync(candidate)) return dirname(candidate);
    const sibling = join(dir, "..", "shared", "reference", "vectors.json");
    if (existsSync(sibling)) return dirname(resolve(sibling));
    const parent = dirname(dir);
    if (parent === dir) throw new Error("shared/reference/vectors.json not found beside the repository; set PAY_SHARED_DIR.");
    dir = parent;
  }
}

/** The known answers in shared/reference/vectors.json, read from disk (never copied into the repo). */
export function loadVectors(): ReferenceVectors {
  return JSON.parse(readFileSync(join(referenceDir(), "vectors.json"), "utf8")) as ReferenceVectors;
}

export interface AesGcmVectorV3 {
  readonly key: string;
  readonly nonce: string;
  readonly associatedData: string;
  readonly plaintext: string;
  readonly ciphertext: string;
  readonly aes: 128 | 256;
}

/** The APIv3 known answers in shared/reference/vectors-v3.json (only the parts the tests read are typed). */
export interface ReferenceVectorsV3 {
  readonly merchantSampleKey: { readonly privateKeyPem: string; readonly publicKeyPem: string; readonly mchid: string; readonly serialNo: string };
  readonly paySign: {
    readonly appId: string;
    readonly timeStamp: string;
    readonly nonceStr: string;
    readonly package: string;
    readonly signType: "RSA";
    readonly message: string;
    readonly paySign: string;
  };
  readonly appSign: { readonly message: string; readonly signature: string };
  readonly requestSignature: {
    readonly method: string;
    readonly urlPath: string;
    readonly timestamp: string;
    readonly nonce: string;
    readonly body: string;
    readonly message: string;
    readonly signature: string;
    readonly authorization: string;
  };
  readonly goSigner: { readonly privateKeyPem: string; readonly message: string; readonly signature: string };
  readonly platformCertificates: { readonly apiV3Key: string; readonly response: unknown; readonly decryptedSerial: string };
  readonly publicKeyVerify: { readonly publicKeyPem: string; readonly timestamp: string; readonly nonce: string; readonly body: string; readonly signature: string };
  readonly notifyWithPlatformCert: {
    readonly certificatePem: string;
    readonly serial: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: string;
    readonly apiV3Key: string;
    readonly plaintext: string;
  };
  readonly aesGcm: readonly AesGcmVectorV3[];
  readonly [section: string]: unknown;
}

/** The APIv3 known answers in shared/reference/vectors-v3.json, read from disk (never copied into the repo). */
export function loadVectorsV3(): ReferenceVectorsV3 {
  return JSON.parse(readFileSync(join(referenceDir(), "vectors-v3.json"), "utf8")) as ReferenceVectorsV3;
}
