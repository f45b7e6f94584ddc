import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BillFailure } from "../../bill/parse-bill.js";
import { readV3BillFile } from "./bill-file.js";
import { readV3BillStream } from "./bill-stream.js";

const sha1 = (bytes: Uint8Array): string => createHash("sha1").update(bytes).digest("hex");

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) {
    await Promise.resolve();
    yield bytes.subarray(at, at + size);
  }
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of body) parts.push(chunk);
  return Buffer.concat(parts);
}

const CSV = Buffer.from("\uFEFF交易时间,商户号\r\n`2024-05-01 10:00:00,`10000100\r\n总交易单数,应结订单总金额\r\n`1,`0.01\r\n".repeat(50), "utf8");

describe("readV3BillStream", () => {
  it.each([
    ["plain", CSV, undefined],
    ["GZIP", gzipSync(CSV), "GZIP" as const],
  ])("yields the %s bill's uncompressed bytes and verifies its SHA1 in any case", async (_, bytes, tarType) => {
    for (const hashValue of [sha1(CSV), sha1(CSV).toUpperCase()]) {
      const stream = readV3BillStream(chunksOf(bytes, 7), { hashValue, tarType });
      expect(stream.verify()).toBe(false);
      expect(Buffer.from(await drain(stream.body)).equals(CSV)).toBe(true);
      expect(stream.verify()).toBe(true);
    }
  });

  it("answers false for a hash that does not match, or is not 40 hex digits", async () => {
    for (const hashValue of [sha1(Buffer.from("other")), "zz", ""]) {
      const stream = readV3BillStream(chunksOf(gzipSync(CSV), 64), { hashValue, tarType: "GZIP" });
      await drain(stream.body);
      expect(stream.verify()).toBe(false);
    }
  });

  it("agrees with readV3BillFile on whole inputs, split anywhere", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 64 }), async (data, gzip, tamper, size) => {
        const bytes = gzip ? gzipSync(data) : data;
        const hashValue = tamper ? sha1(Buffer.concat([data, Buffer.from("x")])) : sha1(data);
        const whole = readV3BillFile(bytes, { hashValue, tarType: gzip ? "GZIP" : undefined });
        const stream = readV3BillStream(chunksOf(bytes, size), { hashValue, tarType: gzip ? "GZIP" : undefined });
        const read = await drain(stream.body);
        expect(stream.verify()).toBe(whole.ok);
        if (whole.ok) expect(Buffer.from(read).equals(Buffer.from(whole.value))).toBe(true);
        else expect(whole.error.code).toBe("HASH_MISMATCH");
      }),
      { numRuns: 100 },
    );
  });

  it("stops a gzip bomb at the size limit, before unpacking it all", async () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const stream = readV3BillStream(chunksOf(bomb, 1024), { hashValue: sha1(Buffer.alloc(0)), tarType: "GZIP", maxBytes: 1024 * 1024 });
    let read = 0;
    const error = await (async () => {
      try {
        for await (const chunk of stream.body) read += chunk.length;
      } catch (cause) {
        return cause;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(BillFailure);
    expect(error).toMatchObject({ code: "MALFORMED_BILL", message: expect.stringContaining("exceeds the size limit") as unknown });
    expect(read).toBeLessThanOrEqual(1024 * 1024);
    expect(stream.verify()).toBe(false);
  });

  it("caps a plain file too", async () => {
    const stream = readV3BillStream(chunksOf(CSV, 100), { hashValue: sha1(CSV), maxBytes: 1000 });
    await expect(drain(stream.body)).rejects.toMatchObject({ code: "MALFORMED_BILL", message: expect.stringContaining("exceeds the size limit") as unknown });
  });

  it.each([
    ["a corrupted archive", (z: Buffer) => Buffer.concat([z.subarray(0, 20), Buffer.alloc(40, 0xff), z.subarray(60)])],
    ["a cut archive", (z: Buffer) => z.subarray(0, z.length - 30)],
    ["bytes that are not gzip", () => Buffer.from("not a gzip file at all")],
  ])("refuses %s as MALFORMED_BILL", async (_, damage) => {
    const stream = readV3BillStream(chunksOf(damage(gzipSync(CSV)), 50), { hashValue: sha1(CSV), tarType: "GZIP" });
    const error = await drain(stream.body).then(
      () => undefined,
      (cause: unknown) => cause,
    );
    expect(error).toBeInstanceOf(BillFailure);
    expect(error).toMatchObject({ code: "MALFORMED_BILL" });
    expect(stream.verify()).toBe(false);
  });

  it("rethrows a transport failure of the source as it is", async () => {
    const failure = new Error("socket hang up");
    async function* broken(): AsyncGenerator<Uint8Array> {
      await Promise.resolve();
      yield gzipSync(CSV).subarray(0, 100);
      throw failure;
    }
    for (const tarType of ["GZIP" as const, undefined]) {
      const source =
        tarType === undefined
          ? (async function* () {
              await Promise.resolve();
              yield CSV.subarray(0, 100);
              throw failure;
            })()
          : broken();
      await expect(drain(readV3BillStream(source, { hashValue: sha1(CSV), tarType }).body)).rejects.toBe(failure);
    }
  });

  it("releases the source when the reader stops early", async () => {
    let released = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        for (let i = 0; i < 1000; i++) {
          await Promise.resolve();
          yield CSV.subarray(0, 10 + i);
        }
      } finally {
        released = true;
      }
    }
    const stream = readV3BillStream(source(), { hashValue: sha1(CSV), tarType: undefined });
    for await (const chunk of stream.body) {
      expect(chunk.length).toBeGreaterThan(0);
      break;
    }
    expect(released).toBe(true);
    expect(stream.verify()).toBe(false);
  });
});
