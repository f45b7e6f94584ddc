// What became of each create-order arrival under the flood, and which answers break the rules of issue 21:
// under overload the API may refuse (429 RATE_LIMITED, 503 GATEWAY_UNAVAILABLE or OVERLOADED, each with
// Retry-After), but every other 5xx is a violation.
import { NO_ANSWER, NOT_SENT, TIMED_OUT, type OpenLoopAnswer } from "./open-loop.js";

/** The 503 codes the API documents for shedding load (design of issue 21). */
export const DOCUMENTED_503_CODES = ["GATEWAY_UNAVAILABLE", "OVERLOADED"] as const;

/** One line of the served-versus-refused table. */
export type CreateClass =
  | "201 created"
  | "429 RATE_LIMITED"
  | "503 GATEWAY_UNAVAILABLE"
  | "503 OVERLOADED"
  | "other 4xx"
  | "5xx violation"
  | "no answer before the client's timeout"
  | "connection error"
  | "not sent (generator backlog full)";

/** The table's lines in order. */
export const CREATE_CLASSES: readonly CreateClass[] = [
  "201 created",
  "429 RATE_LIMITED",
  "503 GATEWAY_UNAVAILABLE",
  "503 OVERLOADED",
  "other 4xx",
  "5xx violation",
  "no answer before the client's timeout",
  "connection error",
  "not sent (generator backlog full)",
];

/** The contract error code of an error body (`{"error":{"code":...}}`), if it has one. */
export function errorCode(body: string | undefined): string | undefined {
  if (body === undefined) return undefined;
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === "string" ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}

/** Where one create-order answer goes in the table. */
export function classifyCreate(answer: Pick<OpenLoopAnswer, "status" | "body">): CreateClass {
  const { status } = answer;
  if (status === NOT_SENT) return "not sent (generator backlog full)";
  if (status === TIMED_OUT) return "no answer before the client's timeout";
  if (status === NO_ANSWER) return "connection error";
  if (status === 201) return "201 created";
  const code = errorCode(answer.body);
  if (status === 429 && code === "RATE_LIMITED") return "429 RATE_LIMITED";
  if (status === 503 && code === "GATEWAY_UNAVAILABLE") return "503 GATEWAY_UNAVAILABLE";
  if (status === 503 && code === "OVERLOADED") return "503 OVERLOADED";
  if (status >= 500) return "5xx violation";
  return "other 4xx";
}

/** Counts per class, and the 5xx violations by `status code` (e.g. `504 GATEWAY_TIMEOUT`), largest first. */
export interface CreateTally {
  readonly counts: Readonly<Record<CreateClass, number>>;
  readonly violations: ReadonlyArray<{ readonly what: string; readonly count: number }>;
  readonly total: number;
}

export function tallyCreates(answers: readonly Pick<OpenLoopAnswer, "status" | "body">[]): CreateTally {
  const counts = Object.fromEntries(CREATE_CLASSES.map((c) => [c, 0])) as Record<CreateClass, number>;
  const violations = new Map<string, number>();
  for (const answer of answers) {
    const kind = classifyCreate(answer);
    counts[kind]++;
    if (kind === "5xx violation") {
      const what = `${answer.status} ${errorCode(answer.body) ?? "(no contract code)"}`;
      violations.set(what, (violations.get(what) ?? 0) + 1);
    }
  }
  return {
    counts,
    violations: [...violations].map(([what, count]) => ({ what, count })).sort((a, b) => b.count - a.count || a.what.localeCompare(b.what)),
    total: answers.length,
  };
}

/** True for a notify WeChat Pay would count as acknowledged: HTTP 200 whose body says SUCCESS. */
export function acknowledged(answer: Pick<OpenLoopAnswer, "status" | "body">, mark: string): boolean {
  return answer.status === 200 && (answer.body?.includes(mark) ?? false);
}
