import { randomInt } from "node:crypto";
import { formatCompactBeijingTime } from "@pay/core";

const ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

function randomChars(count: number): string {
  let out = "";
  for (let i = 0; i < count; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/** A new order id: `P` + yyyyMMddHHmmss (Beijing) + 10 random characters, 25 characters that every gateway protocol accepts as the merchant's order number. */
export function newOrderId(now: number): string {
  return `P${formatCompactBeijingTime(now)}${randomChars(10)}`;
}

/** A new refund id (the merchant's refund number): `R` + yyyyMMddHHmmss + 10 random characters. */
export function newRefundId(now: number): string {
  return `R${formatCompactBeijingTime(now)}${randomChars(10)}`;
}

/** A new user id. */
export function newUserId(): string {
  return `u_${randomChars(20)}`;
}
