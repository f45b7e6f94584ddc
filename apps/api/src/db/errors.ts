import { constraintViolationOf } from "./database.js";

/** True when a database error is a unique-constraint violation (SQLite or PostgreSQL). */
export function isUniqueViolation(error: unknown): boolean {
  return constraintViolationOf(error) === "unique";
}
