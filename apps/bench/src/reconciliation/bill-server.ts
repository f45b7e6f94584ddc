// WeChat Pay's v2 downloadbill for the reconciliation benchmark: a bare HTTP server in the bench process
// answering POST /pay/downloadbill for one day with the generated bill, written as it is generated
// (chunk by chunk, waiting for the socket to drain), gzipped when the request asks tar_type=GZIP. The
// request is checked as the gateway would: signed with the merchant's key, for its mch_id, that day, ALL.
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Writable } from "node:stream";
import { createGzip } from "node:zlib";
import { buildXml, parseXml, verifySign, type SignType } from "@pay/core";
import { billChunks, type BillParty } from "./bill-csv.js";
import type { ReconDay } from "./day.js";

const DOWNLOAD_BILL_PATH = "/pay/downloadbill";
const MAX_REQUEST_BYTES = 64 * 1024;

export interface BillServerOptions {
  readonly day: ReconDay;
  readonly party: BillParty;
  /** The merchant's v2 key and sign type: requests must be signed with them. */
  readonly key: string;
  readonly signType: SignType;
}

/** What the server did, for the report. */
export interface BillServerStats {
  readonly requests: number;
  /** Bills served in full. */
  readonly served: number;
  /** Bytes of CSV text generated (before any gzip). */
  readonly csvBytes: number;
  /** performance.now() when the last bill request arrived, and when its last byte was handed to the socket (undefined before). */
  readonly requestAtMs: number | undefined;
  readonly finishedAtMs: number | undefined;
  /** Requests refused with a return_code FAIL answer, and why. */
  readonly refusals: readonly string[];
}

export interface BillServer {
  /** The gateway base URL (WXPAY_BASE_URL). */
  readonly url: string;
  stats(): BillServerStats;
  stop(): Promise<void>;
}

function compactDate(date: string): string {
  return date.replaceAll("-", "");
}

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of request as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    parts.push(part);
  }
  return Buffer.concat(parts).toString("utf8");
}

/** Writes every chunk, waiting for `drain` whenever the destination's buffer is full. */
async function writeAll(target: Writable, chunks: Iterable<string>, counted: (bytes: number) => void): Promise<void> {
  for (const chunk of chunks) {
    counted(Buffer.byteLength(chunk, "utf8"));
    if (!target.write(chunk)) await once(target, "drain");
  }
  target.end();
  await once(target, "finish");
}

export async function startBillServer(options: BillServerOptions): Promise<BillServer> {
  const { day, party } = options;
  const billDate = compactDate(day.date);
  let requests = 0;
  let served = 0;
  let csvBytes = 0;
  let requestAtMs: number | undefined;
  let finishedAtMs: number | undefined;
  const refusals: string[] = [];

  const refuse = (response: ServerResponse, message: string): void => {
    refusals.push(message);
    response.writeHead(200, { "content-type": "text/xml; charset=utf-8" });
    response.end(buildXml({ return_code: "FAIL", return_msg: message }));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    requests++;
    if (request.method !== "POST" || request.url !== DOWNLOAD_BILL_PATH) {
      response.writeHead(404, { "content-type": "text/plain" });
      response.end(`The bench's bill server answers POST ${DOWNLOAD_BILL_PATH} only.`);
      return;
    }
    const body = await readBody(request);
    const parsed = body === undefined ? undefined : parseXml(body);
    if (parsed === undefined || !parsed.ok) return refuse(response, "data format error");
    const fields = parsed.value;
    const signed = verifySign(fields, { key: options.key, signType: options.signType });
    if (!signed.ok) return refuse(response, "sign error");
    if (fields.mch_id !== party.mchId || fields.appid !== party.appId) return refuse(response, "mch_id or appid mismatch");
    if (fields.bill_date !== billDate) return refuse(response, "No Bill Exist");
    if (fields.bill_type !== "ALL") return refuse(response, "invalid bill_type");
    requestAtMs = performance.now();
    const gzip = fields.tar_type === "GZIP";
    response.writeHead(200, { "content-type": gzip ? "application/x-gzip" : "text/plain; charset=utf-8" });
    const count = (bytes: number): void => {
      csvBytes += bytes;
    };
    if (gzip) {
      const zip = createGzip();
      zip.pipe(response);
      await writeAll(zip, billChunks(day, party), count);
      await once(response, "finish");
    } else {
      await writeAll(response, billChunks(day, party), count);
    }
    finishedAtMs = performance.now();
    served++;
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      refusals.push(`error: ${(error as Error).message}`);
      response.destroy();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ requests, served, csvBytes, requestAtMs, finishedAtMs, refusals: [...refusals] }),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}
