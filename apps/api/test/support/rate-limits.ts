/**
 * The rate limits off (issue 21): the test environments' default, since their suites sign in and place orders far
 * faster than any payer and test other things. The rate-limit suites (test/rate-limits*.test.ts) turn them on.
 */
export const RATE_LIMITS_OFF: Readonly<Record<string, string>> = {
  RATE_LIMIT_ORDERS: "off",
  RATE_LIMIT_RENEWALS: "off",
  RATE_LIMIT_SIGN_INS: "off",
};
