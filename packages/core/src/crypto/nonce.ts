import { randomBytes } from "node:crypto";

/** A 32-character nonce from the CSPRNG (128 bits, hex), within the protocol's String(32). */
export function generateNonceStr(): string {
  return randomBytes(16).toString("hex");
}
