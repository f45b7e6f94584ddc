import { createHash, timingSafeEqual } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { parseBill, type Bill, type BillErrorCode, type ParseBillOptions } from "../../bill/parse-bill.js";
import { err, ok, type Result } from "../../result.js";
import type { V3BillTarType } from "./bill-request.js";

export const V3_BILL_FILE_ERROR_CODES = ["MALFORMED_ARCHIVE", "HASH_MISMATCH"] as const;
export type V3BillFileErrorCode = (typeof V3_BILL_FILE_ERROR_CODES)[number];
export type V3BillErrorCode = V3BillFileErrorCode | BillErrorCode;

/** The largest uncompressed bill accepted: a gzip bomb stops here instead of filling memory. */
export const V3_BILL_MAX_BYTES = 256 * 1024 * 1024;

export interface ReadV3BillFileOptions {
  /** hash_value from the bill answer: SHA1 hex of the uncompressed file. */
  readonly hashValue: string;
  /** The tar_type the bill was asked with; GZIP bytes are gunzipped before the hash. */
  readonly tarType?: V3BillTarType | undefined;
}

/** True when `bytes` hash to `hashValue` (SHA1 hex, any case), compared in constant time. */
export function checkV3BillSha1(bytes: Uint8Array, hashValue: string): boolean {
  if (!/^[0-9A-Fa-f]{40}$/.test(hashValue)) return false;
  const actual = createHash("sha1").update(bytes).digest();
  return timingSafeEqual(actual, Buffer.from(hashValue, "hex"));
}

/**
 * The downloaded bill's CSV bytes: gunzipped when tar_type=GZIP, then checked against the answer's
 * SHA1 (over the uncompressed file, as JAVA's BillDownloadServiceExtension does). A bad archive is
 * MALFORMED_ARCHIVE, a mismatch HASH_MISMATCH. Never throws.
 */
export function readV3BillFile(bytes: Uint8Array, options: ReadV3BillFileOptions): Result<Uint8Array, V3BillFileErrorCode> {
  let csv: Uint8Array = bytes;
  if (options.tarType === "GZIP") {
    try {
      csv = gunzipSync(bytes, { maxOutputLength: V3_BILL_MAX_BYTES });
    } catch {
      return err("MALFORMED_ARCHIVE", "The bill is not a gzip archive (or unpacks beyond the size limit).");
    }
  }
  if (!checkV3BillSha1(csv, options.hashValue)) return err("HASH_MISMATCH", "The bill's SHA1 does not match the answer's hash_value.");
  return ok(csv);
}

/**
 * Reads a downloaded v3 trade bill: gunzip (tar_type=GZIP), SHA1 check, then the same backtick CSV
 * as v2, parsed by parseBill into rows with integer minor units.
 */
export function parseV3TradeBill(bytes: Uint8Array, options: ReadV3BillFileOptions & ParseBillOptions): Result<Bill, V3BillErrorCode> {
  const file = readV3BillFile(bytes, options);
  if (!file.ok) return file;
  const bill = parseBill(file.value, options.currency === undefined ? {} : { currency: options.currency });
  return bill.ok ? ok(bill.value) : err(bill.error.code, bill.error.message);
}
