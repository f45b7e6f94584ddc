// Hand-written record of what the payment-path benchmarks found and what was changed, kept in
// docs/benchmarks.md. `pnpm bench` rewrites the whole file, so the text lives here.

export const PERFORMANCE_HISTORY_HEADING = "## Payment path: what the profiles found";

export const PERFORMANCE_HISTORY = `The first runs of this bench had the API handling about 0.3x of tenpay's notify rate on SQLite (persisting each one), and
parsePayNotify slower than fast-xml-parser's parse alone. Profiles: \`--profile-api\` (\`node --cpu-prof\`), and \`perf record\`
of the API process with \`node --perf-basic-prof\` (on-CPU time only, which the wall-clock V8 profile blurs on a busy machine).

| finding | change | where |
|---|---|---|
| \`readCoupons\` called \`wireInt()\` for every coupon of every notify, and each call built a new zod schema (string, regex, transform, pipe): building a zod schema costs far more than parsing with it. Schema construction and the GC it caused were over half of \`parsePayNotify\`. | \`wireInt()\` returns one shared (immutable) schema; the other two callers (refund coupons, request ints) gain too | @pay/core \`wire/fields.ts\` |
| \`camelizeKeys\` ran a regex with a callback on every field name of every message | names remembered in a map bounded to 1,024 entries | @pay/core \`wire/fields.ts\` |
| the XML parser tested element names one character at a time with two regexes (a tenth of a parse) | char-code tests | @pay/core \`xml/parse.ts\` |
| Kysely's SQLite driver prepares every statement anew; compiling the SQL of a notify's six statements was about 12% of its profile | the better-sqlite3 handle given to Kysely keeps prepared statements (bounded to 256, never one still being iterated) | @pay/api \`db/database.ts\` |
| a duplicate notify ran the whole write path: transaction, conditional update that changes nothing, commit, re-read | a repeat of the report that paid the order is answered from the row just read | @pay/api \`services/payments.ts\` |

In process, interleaved (the XML section's notify, median of 11 rounds): \`parseXml\` 24.2 -> 14.9 µs (2.48x -> 4.04x
fast-xml-parser's parse alone), \`parsePayNotify\` 132.6 -> 40.1 µs (0.45x -> 1.50x).

Over HTTP, the tree before these changes (\`--baseline\`) beside the tree after, in one run (3 rounds of 6 s, medians):

| @pay/api notify handling | before: req/s | after: req/s | before: CPU/req | after: CPU/req | after vs tenpay (c) |
|---|---:|---:|---:|---:|---:|
| SQLite, distinct notifies (each pays an order) | 924 | 1,171 | 1,068 µs | 651 µs | 0.39x |
| SQLite, duplicates of one paid order | 1,250 | 2,627 | 724 µs | 304 µs | 0.88x |
| PostgreSQL, distinct notifies | 541 | 769 | 2,409 µs | 1,742 µs | 0.26x |
| PostgreSQL, duplicates | 820 | 1,786 | 1,503 µs | 595 µs | 0.59x |

CPU per request (API, plus the PostgreSQL server on PostgreSQL) fell by about 40% for a distinct notify on SQLite, 28% on
PostgreSQL, and by 58-60% for a duplicate. In the same run tenpay's middleware did 3,002 req/s at 239 µs per request. req/s moves
more from run to run than CPU per request: an earlier run of the same comparison had SQLite distinct notifies at 841 -> 1,558 req/s
(1,003 -> 593 µs).

What is left in a distinct notify on SQLite (about 590 µs of CPU, \`perf\` on-CPU shares): logging 15% (three pino lines per
notify; @pinojs/redact 0.4.0, pino 10's redactor, re-parses all 66 of the API's redact paths on every line: 21 µs a line against
3.4 µs for the same line without redaction, in a micro-benchmark), SQLite 16% (about 40% of it the commit's WAL frame writes and the
checkpoints' fsync), Kysely's query building, connection mutex and promise chains 10-15%, HTTP parsing, Koa and the response
write about 20%, parse + verify about 12%. tenpay's middleware costs about 250 µs per notify and stores nothing; twice its rate
means about 125 µs per notify including the commit, and 0.6x of the body-read ceiling about 80 µs. The bare SQL of a notify
(read, update, insert, commit, read) through better-sqlite3 with prepared statements already costs about 80 µs of CPU here, so
those two targets are out of reach of per-request transactions. What would move them, in order of effect:

1. Group commit: apply the notifies that arrive within one event-loop turn in one transaction (one commit, one set of WAL frames).
2. One log line per notify instead of three, and a cheaper redactor (for instance a \`formatters.log\` that checks the
   top-level and one-level-deep keys against a set), until @pinojs/redact caches its parsed paths.
3. \`update ... returning *\` instead of the re-read after the paid transition (one statement of six).
4. On PostgreSQL, named prepared statements for the notify's statements: Kysely sends unnamed queries, so PostgreSQL parses and
   plans each of them on every notify.`;
