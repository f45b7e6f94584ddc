// The console-orders benchmark's shop: N orders placed over the last 90 Beijing days by many users, in a
// realistic mix of statuses, as the API would have written them. Everything is a pure function of the
// order's index (and N, the days, the user count), so the seeding on both databases and the answers the
// bench expects from GET /api/admin/orders are computed apart and cannot drift into agreeing by accident.
// Orders are created in index order, evenly over the days with a little jitter: a date window is a
// contiguous range of indexes, and "newest first" is descending index.
import type { NewOrderRow, NewUserRow } from "@pay/api/db";
import { formatCompactBeijingTime } from "@pay/core";
import type { OrderStatus } from "@pay/core/contract";
import { MERCHANT } from "./data/merchant.js";
import { beijingDayStartSeconds, DAY_SECONDS } from "./reconciliation/day.js";

export type ConsoleOrderRow = Required<NewOrderRow>;
export type ConsoleUserRow = Required<NewUserRow>;

const DAY_MS = DAY_SECONDS * 1000;
const MINUTE_MS = 60_000;
/** Orders per user on average: 1M orders come from 20,000 users. */
const ORDERS_PER_USER = 50;
const MIN_USERS = 100;
/** Of every 100 orders: 80 paid (some partly refunded), 12 closed unpaid, 5 still pending, 3 refunded in full. */
const STATUS_MIX: ReadonlyArray<readonly [OrderStatus, number]> = [
  ["paid", 80],
  ["closed", 12],
  ["pending", 5],
  ["refunded", 3],
];
/** One paid order in PARTLY_REFUNDED_EVERY has half of it refunded (it stays paid). */
const PARTLY_REFUNDED_EVERY = 40;
/** Three orders in ten were placed with APIv3. */
const V3_PER_TEN = 3;
const NOTIFY_URL = "http://127.0.0.1:9/wxpay/notify";
const V3_NOTIFY_URL = "http://127.0.0.1:9/wxpay/v3/notify";
const ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const OPENID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const SALT = { status: 0x51a7, user: 0x05e4, amount: 0xa40f, jitter: 0x7177, protocol: 0xb3, paid: 0x9a1d } as const;

/** A 32-bit integer hash (murmur3's finaliser): the pseudo-random but fixed choices of order `value`. */
export function mix(value: number, salt: number): number {
  let h = Math.imul(value ^ Math.imul(salt, 0x9e3779b1), 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

/** `value` (a non-negative safe integer) in `alphabet`, `width` characters, most significant first. */
function encode(value: number, alphabet: string, width: number): string {
  let out = "";
  let rest = value;
  for (let n = 0; n < width; n++) {
    out = (alphabet[rest % alphabet.length] ?? "") + out;
    rest = Math.floor(rest / alphabet.length);
  }
  if (rest !== 0) throw new Error(`${value} does not fit in ${width} characters.`);
  return out;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export interface ConsoleDataset {
  readonly orders: number;
  readonly users: number;
  /** The first Beijing day of the orders, YYYY-MM-DD. */
  readonly firstDay: string;
  readonly days: number;
  /** Start of the first day, epoch ms. */
  readonly startMs: number;
}

/** `orders` orders over the `days` Beijing days ending with `lastDay` (inclusive). */
export function consoleDataset(orders: number, lastDay: string, days = 90, users = Math.max(MIN_USERS, Math.round(orders / ORDERS_PER_USER))): ConsoleDataset {
  if (orders < 1_000) throw new Error(`The console-orders shop needs at least 1,000 orders, not ${orders}.`);
  const startMs = (beijingDayStartSeconds(lastDay) - (days - 1) * DAY_SECONDS) * 1000;
  return { orders, users, firstDay: beijingDay(startMs), days, startMs };
}

/** The Beijing day (YYYY-MM-DD) an instant falls in. */
export function beijingDay(ms: number): string {
  return new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 10);
}

/** The Beijing day `day` days after the dataset's first. */
export function datasetDay(data: ConsoleDataset, day: number): string {
  return beijingDay(data.startMs + day * DAY_MS);
}

/** When order i was created, epoch ms: evenly over the days, jittered within its own slot, so strictly increasing with i. */
export function createdAtMs(data: ConsoleDataset, index: number): number {
  const span = data.days * DAY_MS;
  const slot = Math.floor(span / data.orders);
  return data.startMs + Math.floor((index * span) / data.orders) + (mix(index, SALT.jitter) % slot);
}

export function statusOf(index: number): OrderStatus {
  let r = mix(index, SALT.status) % 100;
  for (const [status, share] of STATUS_MIX) {
    if (r < share) return status;
    r -= share;
  }
  throw new Error("STATUS_MIX does not add up to 100.");
}

/** Which user placed order i. */
export function userOf(data: ConsoleDataset, index: number): number {
  return mix(index, SALT.user) % data.users;
}

export function userId(user: number): string {
  return `u_${encode(user * 7_919 + 104_729, ID_ALPHABET, 20)}`;
}

/** A 28-character openid, like WeChat's. */
export function openidOf(user: number): string {
  return `o${encode(user * 2_654_435 + 97_531, OPENID_ALPHABET, 27)}`;
}

/** out_trade_no, as the API makes them: `P`, the creation time in Beijing (yyyyMMddHHmmss), 10 characters (unique per index here). */
export function orderIdOf(data: ConsoleDataset, index: number): string {
  return `P${formatCompactBeijingTime(createdAtMs(data, index))}${encode(index * 31 + 7, ID_ALPHABET, 10)}`;
}

export function totalFeeOf(index: number): number {
  return 100 + (mix(index, SALT.amount) % 49_901);
}

function paidAtMs(data: ConsoleDataset, index: number): number {
  return createdAtMs(data, index) + 20_000 + (mix(index, SALT.paid) % 160_000);
}

/** WeChat Pay's 28-digit transaction id of a paid (or refunded) order: 4200, two digits, the Beijing date paid, 14 digits. */
export function transactionIdOf(data: ConsoleDataset, index: number): string {
  return `420000${beijingDay(paidAtMs(data, index)).replaceAll("-", "")}${String(index).padStart(14, "0")}`;
}

/** Whether order i has a payment (paid or refunded): the orders a transaction id finds. */
export function hasTransaction(status: OrderStatus): boolean {
  return status === "paid" || status === "refunded";
}

export function userRow(data: ConsoleDataset, user: number): ConsoleUserRow {
  return { id: userId(user), openid: openidOf(user), created_at: iso(data.startMs - 30 * DAY_MS + user * 1000) };
}

/** Order i as the API would have written it. */
export function consoleOrderRow(data: ConsoleDataset, index: number): ConsoleOrderRow {
  const status = statusOf(index);
  const total = totalFeeOf(index);
  const created = createdAtMs(data, index);
  const paid = hasTransaction(status) ? paidAtMs(data, index) : undefined;
  const refunded = status === "refunded" ? total : status === "paid" && index % PARTLY_REFUNDED_EVERY === 0 ? Math.floor(total / 2) : 0;
  const closed = status === "closed" ? created + 30 * MINUTE_MS : undefined;
  const user = userOf(data, index);
  const v3 = mix(index, SALT.protocol) % 10 < V3_PER_TEN;
  const updated = status === "refunded" ? (paid ?? created) + DAY_MS : (paid ?? closed ?? created);
  return {
    id: orderIdOf(data, index),
    user_id: userId(user),
    status,
    total_fee: total,
    fee_type: "CNY",
    refunded_fee: refunded,
    reserved_refund_fee: refunded,
    items: `[{"productId":"mug","name":"Ceramic mug","quantity":1,"unitPrice":${total}}]`,
    body: "Ceramic mug",
    idempotency_key: null,
    request_hash: null,
    appid: MERCHANT.appId,
    mch_id: MERCHANT.mchId,
    sub_appid: null,
    sub_mch_id: null,
    openid: openidOf(user),
    sub_openid: null,
    sign_type: v3 ? "RSA" : MERCHANT.signType,
    spbill_create_ip: "127.0.0.1",
    notify_url: v3 ? V3_NOTIFY_URL : NOTIFY_URL,
    time_start: formatCompactBeijingTime(created),
    time_expire: formatCompactBeijingTime(created + 30 * MINUTE_MS),
    prepay_id: `wx${encode(index * 13 + 5, ID_ALPHABET, 30)}`,
    prepay_expires_at: iso(created + 120 * MINUTE_MS),
    transaction_id: paid === undefined ? null : transactionIdOf(data, index),
    paid_at: paid === undefined ? null : iso(paid),
    closed_at: closed === undefined ? null : iso(closed),
    expires_at: iso(created + 30 * MINUTE_MS),
    last_queried_at: null,
    created_at: iso(created),
    updated_at: iso(updated),
    protocol: v3 ? "v3" : "v2",
  };
}

/** A filter of the orders page; days are indexes into the dataset's days (inclusive). */
export interface OrdersFilter {
  readonly status?: OrderStatus;
  readonly fromDay?: number;
  readonly toDay?: number;
  /** An order id, transaction id or openid, exact. */
  readonly q?: string;
}

/**
 * The dataset's orders held in arrays, to answer "which orders does this filter give, newest first"
 * without a database: statuses and users per index, and each user's orders.
 */
export class ConsoleModel {
  readonly statuses: Uint8Array;
  readonly usersOf: Uint32Array;
  /** Orders of user u: byUser[userStart[u] .. userStart[u + 1]), ascending. */
  private readonly userStart: Uint32Array;
  private readonly byUser: Uint32Array;
  private userByOpenid: Map<string, number> | undefined;

  constructor(readonly data: ConsoleDataset) {
    this.statuses = new Uint8Array(data.orders);
    this.usersOf = new Uint32Array(data.orders);
    const counts = new Uint32Array(data.users + 1);
    for (let i = 0; i < data.orders; i++) {
      this.statuses[i] = STATUS_CODES.indexOf(statusOf(i));
      const user = userOf(data, i);
      this.usersOf[i] = user;
      counts[user + 1] = (counts[user + 1] ?? 0) + 1;
    }
    this.userStart = new Uint32Array(data.users + 1);
    for (let u = 0; u < data.users; u++) this.userStart[u + 1] = (this.userStart[u] ?? 0) + (counts[u + 1] ?? 0);
    const next = this.userStart.slice(0, data.users);
    this.byUser = new Uint32Array(data.orders);
    for (let i = 0; i < data.orders; i++) {
      const user = this.usersOf[i] ?? 0;
      this.byUser[next[user] ?? 0] = i;
      next[user] = (next[user] ?? 0) + 1;
    }
  }

  status(index: number): OrderStatus {
    return STATUS_CODES[this.statuses[index] ?? 0] ?? "pending";
  }

  /** How many orders have each status. */
  statusCounts(): Record<OrderStatus, number> {
    const counts: Record<OrderStatus, number> = { pending: 0, paid: 0, closed: 0, refunded: 0 };
    for (let i = 0; i < this.data.orders; i++) counts[this.status(i)]++;
    return counts;
  }

  /** Orders of user u, oldest first. */
  ordersOfUser(user: number): number[] {
    return Array.from(this.byUser.subarray(this.userStart[user] ?? 0, this.userStart[user + 1] ?? 0));
  }

  /** The first index created at or after `ms` (binary search; created_at increases with the index). */
  firstIndexAtOrAfter(ms: number): number {
    let lo = 0;
    let hi = this.data.orders;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (createdAtMs(this.data, mid) < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The indexes created in days fromDay..toDay (inclusive), as [from, to). */
  dayRange(fromDay: number | undefined, toDay: number | undefined): [number, number] {
    const from = fromDay === undefined ? 0 : this.firstIndexAtOrAfter(this.data.startMs + fromDay * DAY_MS);
    const to = toDay === undefined ? this.data.orders : this.firstIndexAtOrAfter(this.data.startMs + (toDay + 1) * DAY_MS);
    return [from, to];
  }

  /** The order a `q` finds: an order id or transaction id (of this dataset's form), or every order of an openid; undefined for no match. */
  private searched(q: string): number[] {
    const byOrder = this.indexOfOrderId(q);
    if (byOrder !== undefined) return [byOrder];
    if (/^420000\d{22}$/.test(q)) {
      const index = Number(q.slice(14));
      return index < this.data.orders && hasTransaction(this.status(index)) && transactionIdOf(this.data, index) === q ? [index] : [];
    }
    this.userByOpenid ??= new Map(Array.from({ length: this.data.users }, (_, u) => [openidOf(u), u]));
    const user = this.userByOpenid.get(q);
    return user === undefined ? [] : this.ordersOfUser(user);
  }

  private indexOfOrderId(q: string): number | undefined {
    if (!/^P\d{14}[A-Z2-9]{10}$/.test(q)) return undefined;
    let value = 0;
    for (const char of q.slice(15)) value = value * ID_ALPHABET.length + ID_ALPHABET.indexOf(char);
    const index = (value - 7) / 31;
    return Number.isInteger(index) && index >= 0 && index < this.data.orders && orderIdOf(this.data, index) === q ? index : undefined;
  }

  /**
   * Every order the filter gives, newest first, up to `limit` of them after skipping `skip`; and whether more follow.
   * Stops as soon as it has them: a page deep in a filter costs the walk to it.
   */
  page(filter: OrdersFilter, skip: number, limit: number): { indexes: number[]; more: boolean } {
    const [from, to] = this.dayRange(filter.fromDay, filter.toDay);
    const statusCode = filter.status === undefined ? -1 : STATUS_CODES.indexOf(filter.status);
    const matches = (i: number): boolean => i >= from && i < to && (statusCode < 0 || this.statuses[i] === statusCode);
    const indexes: number[] = [];
    let seen = 0;
    const take = (i: number): boolean => {
      if (!matches(i)) return false;
      if (seen++ < skip) return false;
      indexes.push(i);
      return indexes.length > limit;
    };
    if (filter.q === undefined) {
      for (let i = to - 1; i >= from; i--) if (take(i)) break;
    } else {
      const found = this.searched(filter.q);
      for (let k = found.length - 1; k >= 0; k--) if (take(found[k] ?? -1)) break;
    }
    const more = indexes.length > limit;
    return { indexes: more ? indexes.slice(0, limit) : indexes, more };
  }

  /** How many orders the filter gives (no `q`). */
  count(filter: OrdersFilter): number {
    const [from, to] = this.dayRange(filter.fromDay, filter.toDay);
    if (filter.status === undefined) return to - from;
    const code = STATUS_CODES.indexOf(filter.status);
    let n = 0;
    for (let i = from; i < to; i++) if (this.statuses[i] === code) n++;
    return n;
  }
}

const STATUS_CODES: readonly OrderStatus[] = ["pending", "paid", "closed", "refunded"];
