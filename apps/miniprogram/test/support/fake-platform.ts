import type { WxPort, WxRequestOption, WxRequestPaymentOption } from "../../src/utils/wx-port.js";
import type { Platform } from "./mini-runtime.js";

/** A request as the fake server saw it. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly header: Readonly<Record<string, string>>;
  readonly body: unknown;
}

/** What the fake answers: an HTTP status and body (an object is JSON; a string is sent as text) with extra headers, or no answer. */
export type FakeAnswer = { readonly status: number; readonly body: unknown; readonly header?: Readonly<Record<string, string>> } | { readonly networkError: string };

/** What the next payment sheet does. */
export type SheetScript = "ok" | "cancel" | "legacy-cancel" | { readonly fail: string };

/** A typed stand-in for the network, wx.login and the payment sheet, with everything recorded. */
export interface FakePlatform extends Platform {
  readonly requests: RecordedRequest[];
  /** The data fields each wx.requestPayment call received (callbacks left out). */
  readonly payments: Record<string, unknown>[];
  readonly logins: { count: number };
  /** Sets how the server answers. */
  serve(handler: (request: RecordedRequest) => FakeAnswer | Promise<FakeAnswer>): void;
  /** Queues what the next payment sheets do; "ok" once the queue is empty. */
  sheet(...scripts: SheetScript[]): void;
  /** Makes the next wx.login fail with `errMsg`. */
  failNextLogin(errMsg: string): void;
}

/** Callbacks come later, never during the call, as on a phone. */
function later(run: () => void): void {
  void Promise.resolve().then(run);
}

export function createFakePlatform(): FakePlatform {
  const requests: RecordedRequest[] = [];
  const payments: Record<string, unknown>[] = [];
  const logins = { count: 0 };
  const sheets: SheetScript[] = [];
  let loginFailure: string | undefined;
  let handler: (request: RecordedRequest) => FakeAnswer | Promise<FakeAnswer> = () => ({ networkError: "request:fail no fake server" });

  return {
    requests,
    payments,
    logins,
    serve(next) {
      handler = next;
    },
    sheet(...scripts) {
      sheets.push(...scripts);
    },
    failNextLogin(errMsg) {
      loginFailure = errMsg;
    },
    login(option) {
      logins.count += 1;
      const failure = loginFailure;
      loginFailure = undefined;
      later(() => (failure === undefined ? option.success({ code: `code-${logins.count}`, errMsg: "login:ok" }) : option.fail({ errMsg: failure })));
    },
    request(option: WxRequestOption) {
      const url = new URL(option.url);
      const recorded: RecordedRequest = {
        method: option.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        header: { ...option.header },
        body: option.data === undefined ? undefined : structuredClone(option.data),
      };
      requests.push(recorded);
      void Promise.resolve()
        .then(() => handler(recorded))
        .then((answer) => {
          if ("networkError" in answer) return option.fail({ errMsg: answer.networkError });
          const data = typeof answer.body === "string" ? answer.body : structuredClone(answer.body);
          const header = { "content-type": typeof answer.body === "string" ? "text/html" : "application/json", ...answer.header };
          option.success({ statusCode: answer.status, data, header, errMsg: "request:ok" });
        });
    },
    requestPayment(option: WxRequestPaymentOption) {
      const fields: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(option)) if (typeof value !== "function") fields[name] = value;
      payments.push(fields);
      const script = sheets.shift() ?? "ok";
      later(() => {
        if (script === "ok") {
          option.success({ errMsg: "requestPayment:ok" });
          option.complete({ errMsg: "requestPayment:ok" });
        } else if (script === "cancel") {
          option.fail({ errMsg: "requestPayment:fail cancel" });
          option.complete({ errMsg: "requestPayment:fail cancel" });
        } else if (script === "legacy-cancel") {
          option.complete({ errMsg: "requestPayment:cancel" });
        } else {
          option.fail({ errMsg: script.fail });
          option.complete({ errMsg: script.fail });
        }
      });
    },
  };
}

/** A JSON answer. */
export function json(status: number, body: unknown): FakeAnswer {
  return { status, body };
}

/** The API's error body. */
export function apiError(status: number, code: string, message: string): FakeAnswer {
  return { status, body: { error: { code, message } } };
}

/** A refusal with a wait, as the API sends it: `retryAfterSeconds` in the error body and the Retry-After header. */
export function apiRefusal(
  status: 429 | 503,
  code: "RATE_LIMITED" | "OVERLOADED" | "GATEWAY_UNAVAILABLE",
  retryAfterSeconds: number,
  message = `${code}: try again later.`,
): FakeAnswer {
  return { status, body: { error: { code, message, retryAfterSeconds } }, header: { "Retry-After": String(retryAfterSeconds) } };
}

/** A whole WxPort for service tests: the fake platform plus storage in a Map (missing keys read as "", as in WeChat). */
export function fakeWx(platform: FakePlatform, storage = new Map<string, unknown>()): WxPort & { readonly storage: Map<string, unknown> } {
  return {
    storage,
    login: (option) => platform.login(option),
    request: (option) => platform.request(option),
    requestPayment: (option) => platform.requestPayment(option),
    getStorageSync: (key) => (storage.has(key) ? structuredClone(storage.get(key)) : ""),
    setStorageSync: (key, value) => void storage.set(key, structuredClone(value)),
    removeStorageSync: (key) => void storage.delete(key),
  };
}
