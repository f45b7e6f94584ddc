import { randomBytes, randomInt } from "node:crypto";
import { formatCompactBeijingTime } from "@pay/core";

function digits(count: number): string {
  let out = "";
  for (let i = 0; i < count; i++) out += String(randomInt(10));
  return out;
}

/** `wx` + yyyyMMddHHmmss (Beijing) + 20 hex characters, like `wx201410272009395522657a690389285100`. */
export function newPrepayId(now: number): string {
  return `wx${formatCompactBeijingTime(now)}${randomBytes(10).toString("hex")}`;
}

/** 28 digits starting 4200, like `4200000483202001042069747825`. */
export function newTransactionId(now: number): string {
  return `4200000${digits(3)}${formatCompactBeijingTime(now).slice(0, 8)}${digits(10)}`;
}

/** 29 digits like `50300103182020010413419046597`. */
export function newRefundId(now: number): string {
  return `503${digits(7)}${formatCompactBeijingTime(now).slice(0, 8)}${digits(11)}`;
}

/** A random gateway nonce. */
export function newNonce(): string {
  return randomBytes(16).toString("hex");
}
