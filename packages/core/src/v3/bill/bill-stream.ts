import { createHash, timingSafeEqual } from "node:crypto";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { BillFailure } from "../../bill/parse-bill.js";
import { V3_BILL_MAX_BYTES, type ReadV3BillFileOptions } from "./bill-file.js";

export interface ReadV3BillStreamOptions extends ReadV3BillFileOptions {
  /** The largest uncompressed bill accepted; default V3_BILL_MAX_BYTES. */
  readonly maxBytes?: number | undefined;
}

/** A downloaded v3 bill read as it arrives: the uncompressed bytes, then whether their SHA1 is the answer's hash_value. */
export interface V3BillStream {
  /** The bill's CSV bytes, uncompressed, as they arrive. Throws BillFailure MALFORMED_BILL for a broken gzip stream or a file past the size limit. */
  readonly body: AsyncIterable<Uint8Array>;
  /** True when the body was read to its end and its SHA1 (any case, compared in constant time) is the hash_value; false before the end. */
  verify(): boolean;
}

const HASH = /^[0-9A-Fa-f]{40}$/;

/**
 * Reads a downloaded v3 bill file as a stream (readV3BillFile for files too large to hold): gunzipped as it
 * arrives when tar_type=GZIP, the size cap enforced on the uncompressed bytes as they come (a gzip bomb stops
 * at the cap), and SHA1 hashed incrementally over the uncompressed bytes. Errors of `source` itself (a
 * transport failure) are rethrown as they are. Stopping early releases the source.
 */
export function readV3BillStream(source: AsyncIterable<Uint8Array>, options: ReadV3BillStreamOptions): V3BillStream {
  const maxBytes = options.maxBytes ?? V3_BILL_MAX_BYTES;
  const hash = createHash("sha1");
  let size = 0;
  let digest: Buffer | undefined;

  function count(chunk: Uint8Array): Uint8Array {
    size += chunk.length;
    if (size > maxBytes) throw new BillFailure("MALFORMED_BILL", `The bill exceeds the size limit (${maxBytes} bytes uncompressed).`);
    hash.update(chunk);
    return chunk;
  }

  async function* plain(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) if (chunk.length > 0) yield count(chunk);
    digest = hash.digest();
  }

  async function* gunzipped(): AsyncGenerator<Uint8Array> {
    const input = Readable.from(source, { objectMode: false });
    const gunzip = createGunzip();
    // The source's own failure (a transport error) is rethrown as it is; anything else gunzip throws is the archive's fault.
    const transport: { error?: { readonly cause: unknown } } = {};
    input.on("error", (cause) => {
      transport.error = { cause };
      gunzip.destroy(cause);
    });
    input.pipe(gunzip);
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) yield count(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (cause) {
      if (cause instanceof BillFailure) throw cause;
      if (transport.error !== undefined) throw transport.error.cause;
      throw new BillFailure("MALFORMED_BILL", `The bill is not a valid gzip archive (${cause instanceof Error ? cause.message : "unreadable"}).`);
    } finally {
      gunzip.destroy();
      input.destroy();
    }
    digest = hash.digest();
  }

  return {
    body: options.tarType === "GZIP" ? gunzipped() : plain(),
    verify() {
      if (digest === undefined || !HASH.test(options.hashValue)) return false;
      return timingSafeEqual(digest, Buffer.from(options.hashValue, "hex"));
    },
  };
}
