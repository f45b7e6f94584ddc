import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { childLogger, createLogger, LOG_REDACT_CENSOR, LOG_REDACT_PATHS, redactLogFields } from "./logging.js";

/** A logger writing into an array of parsed lines. */
function capture(): { lines: Array<Record<string, unknown>>; destination: Writable } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, destination };
}

describe("log redaction", () => {
  it("censors every secret name at the top level and one object deep, and the exact nested paths", () => {
    const names = LOG_REDACT_PATHS.filter((path) => /^\w+$/.test(path));
    expect(names.length).toBeGreaterThan(20);
    for (const name of names) {
      expect(redactLogFields({ [name]: "s3cret", other: "kept" })).toEqual({ [name]: LOG_REDACT_CENSOR, other: "kept" });
      expect(redactLogFields({ nested: { [name]: "s3cret", other: "kept" } })).toEqual({ nested: { [name]: LOG_REDACT_CENSOR, other: "kept" } });
    }
    expect(
      redactLogFields({
        req: { headers: { authorization: "Bearer t", cookie: "c=1", accept: "*/*" }, body: { code: "x" } },
        res: { headers: { "set-cookie": "c=2", "content-type": "text/xml" }, body: "<xml/>" },
        request: { body: "a" },
        response: { body: "b" },
      }),
    ).toEqual({
      req: { headers: { authorization: LOG_REDACT_CENSOR, cookie: LOG_REDACT_CENSOR, accept: "*/*" }, body: LOG_REDACT_CENSOR },
      res: { headers: { "set-cookie": LOG_REDACT_CENSOR, "content-type": "text/xml" }, body: LOG_REDACT_CENSOR },
      request: { body: LOG_REDACT_CENSOR },
      response: { body: LOG_REDACT_CENSOR },
    });
  });

  it("leaves other fields, deeper levels and arrays as they are, and never changes the caller's object", () => {
    const fields = { order: { body: "Shop-Coffee beans", items: [{ key: "x" }] }, kind: "pay", deep: { a: { key: "too deep by design" } } };
    const snapshot = structuredClone(fields);
    expect(redactLogFields(fields)).toBe(fields);
    const withSecret = { apiKey: "k", order: { sign: "S" } };
    const redacted = redactLogFields(withSecret);
    expect(redacted).toEqual({ apiKey: LOG_REDACT_CENSOR, order: { sign: LOG_REDACT_CENSOR } });
    expect(withSecret).toEqual({ apiKey: "k", order: { sign: "S" } });
    expect(fields).toEqual(snapshot);
  });

  it("censors frozen objects and getter-only properties too, without throwing", () => {
    const frozen = Object.freeze({ key: "s3cret", nested: Object.freeze({ sign: "S", kept: 1 }) });
    expect(redactLogFields({ config: frozen })).toEqual({ config: { key: LOG_REDACT_CENSOR, nested: { sign: "S", kept: 1 } } });
    expect(redactLogFields(frozen)).toEqual({ key: LOG_REDACT_CENSOR, nested: { sign: LOG_REDACT_CENSOR, kept: 1 } });
    const withGetter = Object.defineProperty({}, "token", { get: () => "t0ken", enumerable: true });
    expect(JSON.stringify(redactLogFields({ session: withGetter }))).toBe(`{"session":{"token":"${LOG_REDACT_CENSOR}"}}`);
  });

  it("a logged error with a secret property keeps its message and stack", () => {
    const { lines, destination } = capture();
    const logger = createLogger({ destination, level: "info" });
    const error = Object.assign(new Error("gateway refused"), { code: "E1", key: "s3cret" });
    logger.error({ err: error }, "failed");
    expect(lines[0]?.err).toMatchObject({ type: "Error", message: "gateway refused", code: "E1", key: LOG_REDACT_CENSOR });
    expect(String((lines[0]?.err as { stack?: string }).stack)).toContain("gateway refused");
    expect(error.key).toBe("s3cret");
  });

  it("bindings of childLogger children are censored too, also under a parent not built by createLogger (eslint refuses a bare .child(bindings))", () => {
    const { lines, destination } = capture();
    const foreign = pino({}, destination);
    const child = childLogger(foreign, { component: "wxpay-gateway", secret: "s3cret" });
    child.info({ sign: "S", orderId: "o1" }, "call");
    const grandchild = childLogger(child, { token: "t0ken" });
    grandchild.info({ xml: "<xml/>" }, "again");
    expect(lines[0]).toMatchObject({ component: "wxpay-gateway", secret: LOG_REDACT_CENSOR, sign: LOG_REDACT_CENSOR, orderId: "o1" });
    expect(lines[1]).toMatchObject({ xml: LOG_REDACT_CENSOR });
    expect(JSON.stringify(lines)).not.toMatch(/s3cret|"S"|<xml|t0ken/);
  });
});
