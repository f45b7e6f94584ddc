import { describe, expect, it } from "vitest";
import { createPrettyLogDestination, formatLogLine } from "./log-format.js";

const time = new Date(2026, 0, 2, 3, 4, 5).getTime();

describe("formatLogLine", () => {
  it("shows a request as method, path, status and time", () => {
    const line = JSON.stringify({
      level: 30,
      time,
      pid: 1,
      hostname: "h",
      name: "pay-api",
      requestId: "r1",
      method: "GET",
      path: "/api/products",
      status: 200,
      ms: 3,
      msg: "request",
    });
    expect(formatLogLine(line)).toBe("03:04:05 api  GET /api/products 200 (3 ms)");
  });

  it("shows other lines as the message, their fields and a level when it is not info", () => {
    const line = JSON.stringify({ level: 40, time, msg: "refund submission unconfirmed", refundId: "R1", kind: "timeout", err: { message: "socket hang up" }, note: "two words" });
    expect(formatLogLine(line)).toBe('03:04:05 api  WARN refund submission unconfirmed refundId=R1 kind=timeout err="socket hang up" note="two words"');
  });

  it("passes a line that is not JSON through", () => {
    expect(formatLogLine("plain text\n")).toMatch(/^\d\d:\d\d:\d\d api {2}plain text$/);
  });
});

describe("createPrettyLogDestination", () => {
  it("holds lines until released, then prints them in order", () => {
    const written: string[] = [];
    const destination = createPrettyLogDestination({ write: (text: string) => written.push(text) });
    destination.hold();
    destination.write(`${JSON.stringify({ level: 30, time, msg: "API listening" })}\n`);
    expect(written).toEqual([]);
    destination.release();
    destination.write(`${JSON.stringify({ level: 30, time, msg: "order paid" })}\n`);
    expect(written).toEqual(["03:04:05 api  API listening\n", "03:04:05 api  order paid\n"]);
  });
});
