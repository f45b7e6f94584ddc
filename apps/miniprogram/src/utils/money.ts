import type { Currency } from "@pay/core/money";

// The WeChat runtime cannot load @pay/core, so the display rules live here too. The tables must name
// every currency the contract allows (the compiler checks that), and money.test.ts pins the results to
// @pay/core/money's formatMoney for every currency, so the two cannot drift apart.

/** ISO 4217 minor-unit digits: amounts arrive as integers in the currency's smallest unit. */
const EXPONENTS = {
  CNY: 2,
  HKD: 2,
  USD: 2,
  EUR: 2,
  GBP: 2,
  AUD: 2,
  CAD: 2,
  NZD: 2,
  SGD: 2,
  CHF: 2,
  DKK: 2,
  NOK: 2,
  SEK: 2,
  MOP: 2,
  MYR: 2,
  THB: 2,
  PHP: 2,
  AED: 2,
  SAR: 2,
  QAR: 2,
  ILS: 2,
  RUB: 2,
  ZAR: 2,
  TWD: 2,
  JPY: 0,
  KRW: 0,
  VND: 0,
  IDR: 2,
  KWD: 3,
  BHD: 3,
  JOD: 3,
} as const satisfies Record<Currency, number>;

const SYMBOLS: Partial<Record<Currency, string>> = {
  CNY: "¥",
  JPY: "¥",
  HKD: "HK$",
  USD: "US$",
  EUR: "€",
  GBP: "£",
  KRW: "₩",
  AUD: "A$",
  CAD: "C$",
  SGD: "S$",
  MOP: "MOP$",
  TWD: "NT$",
  NZD: "NZ$",
};

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Display text of an integer minor-unit amount: (1234, "CNY") -> "¥12.34", (1750, "JPY") -> "¥1,750", (1250, "KWD") -> "KWD 1.250". */
export function formatMoney(amount: number, currency: Currency): string {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`Amount ${amount} is not a whole number of minor units.`);
  const exponent = EXPONENTS[currency];
  const digits = String(Math.abs(amount)).padStart(exponent + 1, "0");
  const whole = groupThousands(digits.slice(0, digits.length - exponent));
  const text = exponent > 0 ? `${whole}.${digits.slice(digits.length - exponent)}` : whole;
  const sign = amount < 0 ? "-" : "";
  const symbol = SYMBOLS[currency];
  return symbol === undefined ? `${sign}${currency} ${text}` : `${sign}${symbol}${text}`;
}
