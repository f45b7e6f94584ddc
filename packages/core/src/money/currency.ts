/**
 * ISO 4217 minor-unit exponents for the currencies WeChat Pay (domestic and Global) settles in.
 * `total_fee` is always an integer in the currency's smallest unit: 1750 USD = US$17.50, 1750 JPY = ¥1,750.
 */
export const CURRENCY_EXPONENTS = {
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
} as const;

export type Currency = keyof typeof CURRENCY_EXPONENTS;

export const CURRENCIES = Object.keys(CURRENCY_EXPONENTS) as Currency[];

/** Symbols for display only; a currency without one is shown by its code. */
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

/** True when `code` is a currency this package knows the exponent of. */
export function isCurrency(code: unknown): code is Currency {
  return typeof code === "string" && Object.prototype.hasOwnProperty.call(CURRENCY_EXPONENTS, code);
}

/** Number of minor-unit digits (CNY 2, JPY 0, KWD 3). */
export function currencyExponent(currency: Currency): number {
  return CURRENCY_EXPONENTS[currency];
}

/** A display symbol, or undefined when the code should be shown. */
export function currencySymbol(currency: Currency): string | undefined {
  return SYMBOLS[currency];
}
