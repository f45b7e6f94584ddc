// The bare crypto of one APIv3 notify, measured in the bench process during the notify benchmark: the budget of the
// APIv3 rows is the v2 row's CPU per request plus one RSA-2048 SHA256withRSA verification and one AES-256-GCM
// decryption, "bare" meaning node:crypto with a cached key and nothing else (no header checks, no JSON, no schema).
import { createDecipheriv, createPublicKey, verify } from "node:crypto";
import type { SignedV3Notify } from "@pay/core/testing";
import { median } from "./harness.js";
import type { BareV3Crypto } from "./notify-targets.js";

const AUTH_TAG_BYTES = 16;

/** The two bare operations on one notify; each returns what it produced, checked before timing and summed while timed. */
export interface BareV3Operations {
  /** crypto.verify("sha256") of `timestamp\nnonce\nbody\n` against the Wechatpay-Signature, with the public key as a KeyObject. */
  readonly verify: () => boolean;
  /** The resource's AES-256-GCM decryption with the APIv3 key, the auth tag and the associated data, as UTF-8 text. */
  readonly decrypt: () => string;
}

interface Envelope {
  readonly resource: { readonly ciphertext: string; readonly nonce: string; readonly associated_data: string };
}

/** The operations on `notify`, with the key material prepared once (as an API holds it). */
export function bareV3Operations(notify: SignedV3Notify, publicKeyPem: string, apiV3Key: string): BareV3Operations {
  const key = createPublicKey(publicKeyPem);
  const aesKey = Buffer.from(apiV3Key, "utf8");
  const h = notify.headers;
  const { body } = notify;
  const { resource } = JSON.parse(body) as Envelope;
  return {
    verify: () => verify("sha256", Buffer.from(`${h["Wechatpay-Timestamp"]}\n${h["Wechatpay-Nonce"]}\n${body}\n`, "utf8"), key, Buffer.from(h["Wechatpay-Signature"], "base64")),
    decrypt: () => {
      const data = Buffer.from(resource.ciphertext, "base64");
      const decipher = createDecipheriv("aes-256-gcm", aesKey, Buffer.from(resource.nonce, "utf8"));
      decipher.setAuthTag(data.subarray(data.length - AUTH_TAG_BYTES));
      decipher.setAAD(Buffer.from(resource.associated_data, "utf8"));
      return Buffer.concat([decipher.update(data.subarray(0, data.length - AUTH_TAG_BYTES)), decipher.final()]).toString("utf8");
    },
  };
}

/** This process's user + system CPU, in microseconds (process.cpuUsage). */
function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** CPU microseconds per call of `op` over `calls` calls; throws if a call's result is not `expect(result)`. */
export function cpuMicrosPerCall<T>(op: () => T, calls: number, expect: (result: T) => boolean): number {
  let bad = 0;
  const start = cpuMicros();
  for (let i = 0; i < calls; i++) if (!expect(op())) bad++;
  const spent = cpuMicros() - start;
  if (bad > 0) throw new Error(`${bad} of ${calls} bare APIv3 operations gave a wrong result.`);
  return spent / calls;
}

/** Batches per side (before and after the HTTP rounds) and calls per batch. */
export interface BareV3Options {
  readonly batchesPerSide: number;
  readonly verifyCalls: number;
  readonly decryptCalls: number;
}

export const FULL_BARE: BareV3Options = { batchesPerSide: 7, verifyCalls: 2_000, decryptCalls: 5_000 };
export const QUICK_BARE: BareV3Options = { batchesPerSide: 3, verifyCalls: 500, decryptCalls: 2_000 };

/**
 * Samples the bare costs in batches, verify and decrypt alternating; `sample()` once before the HTTP rounds and once
 * after (drift of the shared machine over the run then counts on both sides), `result()` the medians per call.
 */
export class BareV3Meter {
  private readonly verifySamples: number[] = [];
  private readonly decryptSamples: number[] = [];

  constructor(
    private readonly ops: BareV3Operations,
    private readonly options: BareV3Options,
    private readonly expectedPlaintext: (text: string) => boolean,
  ) {
    // Checked once before anything is timed: the notify verifies and decrypts to the payment it stands for.
    if (!ops.verify()) throw new Error("The bare APIv3 verification refuses the notify.");
    if (!expectedPlaintext(ops.decrypt())) throw new Error("The bare APIv3 decryption does not give the notify's payment.");
  }

  /** One warm-up batch of each (discarded), then `batchesPerSide` timed batches of each. */
  sample(): void {
    const { verifyCalls, decryptCalls, batchesPerSide } = this.options;
    const verified = (ok: boolean): boolean => ok;
    cpuMicrosPerCall(this.ops.verify, verifyCalls, verified);
    cpuMicrosPerCall(this.ops.decrypt, decryptCalls, this.expectedPlaintext);
    for (let batch = 0; batch < batchesPerSide; batch++) {
      this.verifySamples.push(cpuMicrosPerCall(this.ops.verify, verifyCalls, verified));
      this.decryptSamples.push(cpuMicrosPerCall(this.ops.decrypt, decryptCalls, this.expectedPlaintext));
    }
  }

  /** Medians per call over every timed batch so far (NaN before any). */
  result(): BareV3Crypto & { readonly batches: number } {
    return { verifyMicros: median(this.verifySamples), decryptMicros: median(this.decryptSamples), batches: this.verifySamples.length };
  }
}
