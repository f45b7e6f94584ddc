import type { z } from "zod";
import { ApiError } from "../errors.js";

/** Parses untrusted input with a contract schema; a failure is a 400 naming the field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, where: "body" | "query" | "params"): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.map(String).join(".") ?? "";
  const field = path === "" ? where : path;
  const message = issue?.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")}` : (issue?.message ?? "is invalid");
  throw new ApiError("VALIDATION_FAILED", `${field}: ${message}`, { field });
}
