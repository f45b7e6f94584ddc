import { describe, expect, it } from "vitest";
import { formatWait } from "../utils/format.js";
import { describeError, headerValue, isTransient, MAX_RETRY_AFTER_SECONDS, parseApiErrorBody, parseRetryAfter, retryAfterOf, type ClientError } from "./errors.js";

const NOW = Date.parse("2026-01-01T00:00:00Z");

describe("parseRetryAfter", () => {
  it.each([
    ["delta-seconds", "30", 30],
    ["delta-seconds with spaces", " 7 ", 7],
    ["an HTTP-date 90 s ahead", "Thu, 01 Jan 2026 00:01:30 GMT", 90],
    ["an HTTP-date 1 s ahead", "Thu, 01 Jan 2026 00:00:01 GMT", 1],
    ["a wait beyond the cap", "86400", MAX_RETRY_AFTER_SECONDS],
  ])("reads %s", (_case, value, seconds) => {
    expect(parseRetryAfter(value, NOW)).toBe(seconds);
  });

  it("rounds an HTTP-date's wait up to whole seconds", () => {
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:01 GMT", NOW - 200)).toBe(2);
  });

  it.each([
    ["no header", undefined],
    ["zero", "0"],
    ["a negative number", "-5"],
    ["a fraction", "1.5"],
    ["words", "soon"],
    ["an HTTP-date in the past", "Wed, 31 Dec 2025 23:59:00 GMT"],
    ["an empty value", ""],
  ])("reads no wait from %s", (_case, value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });
});

describe("headerValue", () => {
  it("finds a header whatever the case of its name, and ignores what is not a string", () => {
    expect(headerValue({ "retry-after": "5" }, "Retry-After")).toBe("5");
    expect(headerValue({ "RETRY-AFTER": "6" }, "Retry-After")).toBe("6");
    expect(headerValue({ "Retry-After": 7 }, "Retry-After")).toBeUndefined();
    expect(headerValue(undefined, "Retry-After")).toBeUndefined();
    expect(headerValue(null, "Retry-After")).toBeUndefined();
    expect(headerValue("Retry-After: 5", "Retry-After")).toBeUndefined();
  });
});

describe("parseApiErrorBody", () => {
  it("keeps the body's retryAfterSeconds, which wins over the header's", () => {
    expect(parseApiErrorBody(429, { error: { code: "RATE_LIMITED", message: "Slow down.", retryAfterSeconds: 20 } }, 99)).toEqual({
      kind: "api",
      status: 429,
      code: "RATE_LIMITED",
      message: "Slow down.",
      retryAfterSeconds: 20,
    });
  });

  it("takes the header's wait when the body names none, and has no wait when neither does", () => {
    expect(parseApiErrorBody(503, { error: { code: "OVERLOADED", message: "Busy." } }, 3)).toEqual({
      kind: "api",
      status: 503,
      code: "OVERLOADED",
      message: "Busy.",
      retryAfterSeconds: 3,
    });
    const plain = parseApiErrorBody(503, { error: { code: "OVERLOADED", message: "Busy." } });
    expect(plain).toEqual({ kind: "api", status: 503, code: "OVERLOADED", message: "Busy." });
    expect(plain).not.toHaveProperty("retryAfterSeconds");
  });

  it("caps a huge wait, and refuses a body whose wait is not a positive whole number", () => {
    expect(parseApiErrorBody(429, { error: { code: "RATE_LIMITED", message: "x", retryAfterSeconds: 10_000_000 } })).toMatchObject({ retryAfterSeconds: MAX_RETRY_AFTER_SECONDS });
    expect(parseApiErrorBody(429, { error: { code: "RATE_LIMITED", message: "x", retryAfterSeconds: 0 } })).toBeUndefined();
    expect(parseApiErrorBody(429, { error: { code: "RATE_LIMITED", message: "x", retryAfterSeconds: 2.5 } })).toBeUndefined();
    expect(parseApiErrorBody(429, { error: { code: "RATE_LIMITED", message: "x", retryAfterSeconds: "30" } })).toBeUndefined();
  });
});

const api = (status: number, code: Extract<ClientError, { kind: "api" }>["code"], message: string, retryAfterSeconds?: number): ClientError => ({
  kind: "api",
  status,
  code,
  message,
  ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
});

describe("describeError for refusals that name a wait", () => {
  it.each([
    ["RATE_LIMITED", api(429, "RATE_LIMITED", "Too many orders; try again in 30 s.", 30), "Too many attempts. Try again in 30 s."],
    ["OVERLOADED", api(503, "OVERLOADED", "The API is overloaded.", 2), "The server is busy. Try again in 2 s."],
    ["GATEWAY_UNAVAILABLE", api(503, "GATEWAY_UNAVAILABLE", "WeChat Pay is unavailable.", 15), "WeChat Pay is busy. Try again in 15 s."],
    ["a wait of minutes", api(429, "RATE_LIMITED", "x", 600), "Too many attempts. Try again in 10 min."],
    ["a proxy's 429 page with Retry-After", { kind: "http", status: 429, message: "HTTP 429", retryAfterSeconds: 5 } as const, "Too many attempts. Try again in 5 s."],
    ["a proxy's 503 page with Retry-After", { kind: "http", status: 503, message: "HTTP 503", retryAfterSeconds: 8 } as const, "The server is busy. Try again in 8 s."],
  ])("words %s as the app does", (_case, error, text) => {
    expect(describeError(error)).toBe(text);
    expect(isTransient(error)).toBe(true);
  });

  it.each([
    ["RATE_LIMITED", api(429, "RATE_LIMITED", "Too many sign-ins; try again shortly.")],
    ["OVERLOADED", api(503, "OVERLOADED", "The API is overloaded; try again shortly.")],
    ["GATEWAY_UNAVAILABLE", api(503, "GATEWAY_UNAVAILABLE", "WeChat Pay is not answering; try again in a moment.")],
  ])("keeps today's message for %s without a wait", (_case, error) => {
    expect(describeError(error)).toBe(error.message);
  });

  it("keeps the server's message for other codes, and a proxy's page without a wait as before", () => {
    expect(describeError(api(500, "INTERNAL", "Something went wrong on our side.", 5))).toBe("Something went wrong on our side.");
    expect(describeError({ kind: "http", status: 503, message: "HTTP 503" })).toBe("The server answered HTTP 503 instead of the app's data. Try again in a moment.");
    expect(describeError({ kind: "http", status: 404, message: "HTTP 404", retryAfterSeconds: 5 })).toBe(
      "The server answered HTTP 404 instead of the app's data. Try again in a moment.",
    );
  });
});

describe("isTransient and retryAfterOf", () => {
  it("treats OVERLOADED like the other refusals worth waiting out, and a refused request as final", () => {
    expect(isTransient(api(503, "OVERLOADED", "Busy."))).toBe(true);
    expect(isTransient(api(429, "RATE_LIMITED", "Slow down."))).toBe(true);
    expect(isTransient(api(404, "NOT_FOUND", "No order."))).toBe(false);
    expect(isTransient(api(409, "ORDER_NOT_PAYABLE", "Paid."))).toBe(false);
  });

  it("reads the wait of API and HTTP errors only", () => {
    expect(retryAfterOf(api(429, "RATE_LIMITED", "x", 12))).toBe(12);
    expect(retryAfterOf(api(429, "RATE_LIMITED", "x"))).toBeUndefined();
    expect(retryAfterOf({ kind: "http", status: 503, message: "HTTP 503", retryAfterSeconds: 4 })).toBe(4);
    expect(retryAfterOf({ kind: "network", message: "request:fail timeout" })).toBeUndefined();
    expect(retryAfterOf({ kind: "login", message: "login:fail" })).toBeUndefined();
  });
});

describe("formatWait", () => {
  it.each([
    [1, "1 s"],
    [59, "59 s"],
    [119, "119 s"],
    [120, "2 min"],
    [121, "3 min"],
    [3600, "60 min"],
  ])("shows %i seconds as %s", (seconds, text) => {
    expect(formatWait(seconds)).toBe(text);
  });
});
