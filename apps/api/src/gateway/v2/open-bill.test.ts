import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BillFailure, parseBill } from "@pay/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readBill } from "../../../test/support/read-bill.js";
import { createLogger } from "../../logging.js";
import { MAX_GATEWAY_RESPONSE_BYTES } from "./client.js";
import { createV2Gateway, type V2Gateway } from "./gateway.js";
import type { MerchantCredentials } from "./types.js";

const MERCHANT: MerchantCredentials = {
  appId: "wx2421b1c4370ec43b",
  mchId: "10000100",
  key: "192006250b4c09247ec02edce69f6a2d",
  subAppId: undefined,
  subMchId: undefined,
  signType: "MD5",
};

const HEADER =
  "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
const SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额";
const ticked = (cells: readonly string[]): string => cells.map((c) => `\`${c}`).join(",");

/** A bill of `count` 0.01-yuan payments, each line about 300 bytes (so 5000 lines pass MAX_GATEWAY_RESPONSE_BYTES). */
function bigBill(count: number): string {
  const lines = [HEADER];
  for (let i = 0; i < count; i++) {
    const no = String(i).padStart(8, "0");
    lines.push(
      ticked([
        "2026-01-01 10:00:00",
        MERCHANT.appId,
        MERCHANT.mchId,
        "0",
        "",
        `42000000012026010100${no}`,
        `order${no}`,
        "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "JSAPI",
        "SUCCESS",
        "OTHERS",
        "CNY",
        "0.01",
        "0.00",
        "0",
        "0",
        "0.00",
        "0.00",
        "",
        "",
        "咖啡豆 Coffee beans 一袋",
        "",
        "0.00006",
        "0.60%",
        "0.01",
        "0.00",
        "",
      ]),
    );
  }
  const total = (count / 100).toFixed(2);
  lines.push(SUMMARY_HEADER, ticked([String(count), total, "0.00", "0.00", (count * 0.00006).toFixed(5), total, "0.00"]));
  return `\uFEFF${lines.join("\r\n")}\r\n`;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let url: string;
let handler: Handler;
const requests: string[] = [];
const gateways: V2Gateway[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => {
      requests.push(req.url ?? "");
      handler(req, res, Buffer.concat(parts).toString("utf8"));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  requests.length = 0;
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, "close");
});

function gateway(extra: { baseUrl?: string; failoverBaseUrl?: string; maxAttempts?: number } = {}): V2Gateway {
  const created = createV2Gateway({ merchant: MERCHANT, baseUrl: url, logger: createLogger({ level: "silent" }), backoffMs: 0, timeoutMs: 2000, maxAttempts: 1, ...extra });
  gateways.push(created);
  return created;
}

const refusal = (msg: string, errCode?: string): string =>
  `<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[${msg}]]></return_msg>${errCode === undefined ? "" : `<err_code>${errCode}</err_code>`}</xml>`;

describe("v2 openBill on the wire", () => {
  it("streams a bill larger than the 1 MiB answer cap, in many chunks, to the rows the file holds (sniffed bytes kept)", async () => {
    const text = bigBill(5000);
    expect(Buffer.byteLength(text)).toBeGreaterThan(MAX_GATEWAY_RESPONSE_BYTES);
    let asked = "";
    handler = (_req, res, body) => {
      asked = body;
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      res.end(text);
    };
    const read = await readBill(await gateway().openBill("2026-01-01"));
    const expected = parseBill(text);
    if (!expected.ok) throw new Error(expected.error.message);
    expect(read.rows).toEqual(expected.value.rows);
    expect(read.summary).toEqual(expected.value.summary);
    expect(read.chunks).toBeGreaterThan(1);
    expect(requests).toEqual(["/pay/downloadbill"]);
    // bill_type ALL, the plain CSV (no tar_type).
    expect(asked).toMatch(/<bill_type>(<!\[CDATA\[)?ALL(\]\]>)?<\/bill_type>/);
    expect(asked).toMatch(/<bill_date>(<!\[CDATA\[)?20260101(\]\]>)?<\/bill_date>/);
    expect(asked).not.toContain("tar_type");
  });

  it("still caps every other call's answer at MAX_GATEWAY_RESPONSE_BYTES", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "text/xml" });
      res.end(`<xml><return_code>SUCCESS</return_code><pad>${"x".repeat(MAX_GATEWAY_RESPONSE_BYTES + 10)}</pad></xml>`);
    };
    expect(await gateway().queryOrder("order1")).toMatchObject({ ok: false, error: { kind: "invalid", message: expect.stringContaining("exceeds") as string } });
  });

  it.each([
    ["No Bill Exist", { kind: "none" }],
    ["Bill Creating", { kind: "not-ready" }],
  ])("reads the refusal %s (after a BOM and whitespace, split across writes)", async (msg, value) => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "text/xml" });
      res.write("\uFEFF \r\n");
      setTimeout(() => res.end(refusal(msg)), 10);
    };
    expect(await gateway().openBill("2026-01-01")).toEqual({ ok: true, value });
  });

  it("reports other refusals as protocol errors with the gateway's message; SYSTEMERROR is retried", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "text/xml" });
      res.end(refusal("invalid bill_date"));
    };
    expect(await gateway().openBill("2026-01-01")).toMatchObject({
      ok: false,
      error: { kind: "protocol", retryable: false, message: expect.stringContaining("invalid bill_date") as string },
    });
    // A return_msg that names an Object.prototype member is just another refusal.
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "text/xml" });
      res.end(refusal("constructor"));
    };
    expect(await gateway().openBill("2026-01-01")).toMatchObject({ ok: false, error: { kind: "protocol", message: expect.stringContaining("constructor") as string } });
    let calls = 0;
    handler = (_req, res) => {
      calls += 1;
      res.writeHead(200, { "content-type": "text/xml" });
      res.end(calls === 1 ? refusal("system busy", "SYSTEMERROR") : bigBill(2));
    };
    const read = await readBill(await gateway({ maxAttempts: 2 }).openBill("2026-01-01"));
    expect(calls).toBe(2);
    expect(read.rows).toHaveLength(2);
  });

  it("reports a non-200 answer as an http error", async () => {
    handler = (_req, res) => {
      res.writeHead(502, { "content-type": "text/html" });
      res.end("<html><title>502 Bad Gateway</title></html>");
    };
    expect(await gateway().openBill("2026-01-01")).toMatchObject({ ok: false, error: { kind: "http", httpStatus: 502, retryable: true } });
  });

  it("fails over to the failover host after a connection error", async () => {
    const closed = createServer();
    closed.listen(0, "127.0.0.1");
    await once(closed, "listening");
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    closed.close();
    await once(closed, "close");
    handler = (_req, res) => {
      res.writeHead(200);
      res.end(bigBill(3));
    };
    const read = await readBill(await gateway({ baseUrl: deadUrl, failoverBaseUrl: url, maxAttempts: 2 }).openBill("2026-01-01"));
    expect(read.rows).toHaveLength(3);
  });

  it("throws from the body when the connection is cut mid-way (a transport error, not a BillFailure)", async () => {
    const text = bigBill(2000);
    handler = (_req, res) => {
      res.writeHead(200, { "content-length": String(Buffer.byteLength(text)) });
      res.write(text.slice(0, 100_000), () => res.destroy());
    };
    const opened = await gateway().openBill("2026-01-01");
    if (!opened.ok || opened.value.kind !== "file") throw new Error("expected a file");
    const { body } = opened.value;
    let bytes = 0;
    const error = await (async () => {
      try {
        for await (const chunk of body) bytes += chunk.length;
      } catch (cause) {
        return cause;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(BillFailure);
    expect(bytes).toBeLessThan(Buffer.byteLength(text));
  });

  it("releases the connection when the reader stops early", async () => {
    let socketClosed: Promise<unknown> = Promise.resolve();
    handler = (req, res) => {
      // The reader's stop resets the connection: the server sees the socket close (its ECONNRESET is expected).
      req.socket.on("error", () => undefined);
      res.on("error", () => undefined);
      socketClosed = new Promise((resolve) => req.socket.on("close", resolve));
      res.writeHead(200);
      // An endless bill: only the reader's stop ends it.
      const line = `${"`x,".repeat(100)}\r\n`;
      const pump = (): void => {
        while (res.write(line));
        res.once("drain", pump);
      };
      res.write(`${HEADER}\r\n`);
      pump();
    };
    const opened = await gateway().openBill("2026-01-01");
    if (!opened.ok || opened.value.kind !== "file") throw new Error("expected a file");
    for await (const chunk of opened.value.body) {
      expect(chunk.length).toBeGreaterThan(0);
      break;
    }
    await socketClosed;
  });
});
