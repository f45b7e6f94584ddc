export { CURRENCIES, CURRENCY_EXPONENTS, currencyExponent, currencySymbol, isCurrency, type Currency } from "./currency.js";
export { formatAmount, formatMoney, money, parseAmount, type Money, type MoneyErrorCode } from "./money.js";
