import type { Middleware } from "koa";
import type { z } from "zod";
import { FaultRuleSchema, FaultSchema, type Fault, type FaultRuleInput } from "../control/schemas.js";

export { FaultRuleSchema, FaultSchema, type Fault, type FaultRuleInput };
export type FaultRule = z.output<typeof FaultRuleSchema> & { remaining: number };

export const FAULT_HEADER = "x-sandbox-fault";

/** Gateway paths the gateway-wide latency leaves alone: a WeChat login is not a WeChat Pay call. */
const NOT_WECHAT_PAY = new Set(["/sns/jscode2session"]);

/**
 * Parses the per-request header, e.g. `delay=300`, `timeout`, `http=503`, `garbage`, `systemerror`
 * (v3 answers also `badsignature`, `unknownserial`, `skew`, `signtest`, `rotate`),
 * or several joined by commas (`delay=200,http=502`). Returns undefined for an unknown fault.
 */
export function parseFaultHeader(value: string): Fault[] | undefined {
  const faults: Fault[] = [];
  for (const part of value
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, arg] = part.split("=", 2).map((s) => s.trim());
    let fault: unknown;
    if (name === "delay") fault = { kind: "delay", ms: Number(arg) };
    else if (name === "http") fault = { kind: "http", status: Number(arg) };
    else fault = { kind: name };
    const parsed = FaultSchema.safeParse(fault);
    if (!parsed.success) return undefined;
    faults.push(parsed.data);
  }
  return faults;
}

/** Faults queued over the control API, plus the requests held open by `timeout` faults. */
export class FaultInjector {
  private rules: FaultRule[] = [];
  private readonly held = new Set<() => void>();

  /**
   * @param latencyMs the delay before every WeChat Pay gateway answer (the `latencyMs` option); `POST /sandbox/latency` changes it.
   */
  constructor(public latencyMs = 0) {}

  add(rule: FaultRuleInput): FaultRule {
    const parsed = FaultRuleSchema.parse(rule);
    const stored = { ...parsed, remaining: parsed.times };
    this.rules.push(stored);
    return stored;
  }

  list(): readonly FaultRule[] {
    return this.rules;
  }

  clear(): void {
    this.rules = [];
  }

  /** Takes the faults for one request on `path`, consuming one use of the first matching rule. */
  take(path: string): Fault[] {
    const rule = this.rules.find((r) => r.remaining > 0 && (r.path === "*" || r.path === path));
    if (rule === undefined) return [];
    rule.remaining -= 1;
    if (rule.remaining === 0) this.rules = this.rules.filter((r) => r !== rule);
    return rule.faults;
  }

  /** Holds a request open until the sandbox closes (or 10 minutes pass): the client must time out. */
  hold(): Promise<void> {
    return new Promise<void>((resolve) => {
      const release = (): void => {
        clearTimeout(timer);
        this.held.delete(release);
        resolve();
      };
      const timer = setTimeout(release, 600_000);
      timer.unref();
      this.held.add(release);
    });
  }

  /** Releases every held request (on close). */
  releaseAll(): void {
    for (const release of [...this.held]) release();
  }
}

const GARBAGE = "\u0000\u00ff<<not xml>> \u{1F4A5} garbage from the sandbox";

/**
 * Applies injected faults to gateway routes. `systemerror` is left in `ctx.state.fault` for the route,
 * which answers a signed SYSTEMERROR once it knows the merchant and sign type.
 */
export function createFaultMiddleware(injector: FaultInjector): Middleware {
  return async function injectFaults(ctx, next) {
    // The gateway-wide latency first (a slow gateway), then the request's own faults.
    if (injector.latencyMs > 0 && !NOT_WECHAT_PAY.has(ctx.path)) await new Promise((resolve) => setTimeout(resolve, injector.latencyMs));
    const header = ctx.get(FAULT_HEADER);
    let faults = injector.take(ctx.path);
    if (header !== "") {
      const parsed = parseFaultHeader(header);
      if (parsed === undefined) {
        ctx.status = 400;
        ctx.type = "text/plain";
        ctx.body = `Unknown ${FAULT_HEADER} value "${header}". Use delay=MS, timeout, http=5xx, garbage, systemerror, or for v3 badsignature, unknownserial, skew, signtest, rotate.`;
        return;
      }
      faults = [...faults, ...parsed];
    }
    for (const fault of faults) {
      switch (fault.kind) {
        case "delay":
          await new Promise((resolve) => setTimeout(resolve, fault.ms));
          break;
        case "timeout":
          await injector.hold();
          ctx.req.socket.destroy();
          return;
        case "http":
          ctx.status = fault.status;
          ctx.type = "text/html";
          ctx.body = `<html><head><title>${fault.status}</title></head><body><center><h1>${fault.status}</h1></center><hr><center>nginx</center></body></html>`;
          return;
        case "garbage":
          ctx.status = 200;
          ctx.type = "text/plain";
          ctx.body = GARBAGE;
          return;
        case "systemerror":
          ctx.state.fault = "systemerror";
          break;
        case "badsignature":
        case "unknownserial":
        case "skew":
        case "signtest":
          ctx.state.v3AnswerFaults = [...((ctx.state.v3AnswerFaults as string[] | undefined) ?? []), fault.kind];
          break;
        case "rotate":
          ctx.state.v3Rotate = true;
          break;
      }
    }
    await next();
  };
}
