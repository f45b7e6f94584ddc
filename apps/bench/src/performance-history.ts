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

What was left in a distinct notify on SQLite after that (about 590 µs of CPU, \`perf\` on-CPU shares): logging 15% (three pino
lines per notify; @pinojs/redact 0.4.0, pino 10's redactor, re-parses all 66 of the API's redact paths on every line), SQLite 16%,
Kysely's query building, connection mutex and promise chains 10-15%, HTTP parsing, Koa and the response write about 20%, parse +
verify about 12%.

### Second round: batching the database work

| finding | change | where |
|---|---|---|
| every notify ran its own transaction (begin, update, insert, commit: one set of WAL frames and one fsync-prone commit each) and on PostgreSQL four round trips | group commit: the paid transitions that arrive while the event loop is busy go to the database together, each notify answered SUCCESS only after the batch holding it committed; a failed batch is retried one transition at a time so a bad one fails alone; two transitions of one order never share a batch. SQLite: one transaction of two statements for the whole batch (\`update ... from json_each(?) returning\`, \`insert ... select from json_each(?)\`); PostgreSQL: one statement (\`unnest\` arrays, a data-modifying CTE) | @pay/api \`db/group-commit.ts\`, \`db/paid-writer.ts\` |
| each notify's order read was its own statement: on SQLite its own read transaction (and WAL-index locks), on PostgreSQL a round trip plus a parse and plan on the server | the reads asked for in one turn go as one statement (\`id in (select value from json_each(?))\` / \`id = any($1)\`) | @pay/api \`db/order-reads.ts\` |
| the first batched UPDATE let SQLite's planner walk the status index (every pending order) and scan the batch for each: 20 notifies a second with 30,000 pending orders | \`+orders.status\` keeps the planner on the primary key; a test checks the plans on both databases, before and after ANALYZE | \`db/paid-writer.test.ts\` |
| pino's redactor: 25 µs a line with the API's 66 paths against 3 µs without | the same paths compiled once into a tree and applied by pino's \`log\` and \`bindings\` formatters, copy-on-write (3 µs); eslint refuses a bare \`.child(bindings)\`, which would skip the bindings formatter | @pay/api \`logging.ts\` |
| three log lines per notify (request, notify, order paid) | the notify's outcome is folded into its request line: two lines for a payment, one for anything else | @pay/api \`middleware/request-log.ts\` |
| the Kysely query builder built and compiled the order reads on every call | compiled once per database | @pay/api \`db/order-reads.ts\` |
| the body read raced three promises and a timer (25 µs a request over (b) in a stripped-down server) | one promise and one timer | @pay/api \`http/body.ts\` |
| wire integers: a zod transform piped into a number schema | one transform with the same checks (zod part of \`parsePayNotify\` 8.3 -> 6.4 µs) | @pay/core \`wire/fields.ts\` |

Over HTTP, the tree before this round (\`--baseline\`, commit 062a914) beside the tree after, in one run
(\`npx -y pnpm@10.34.9 bench -- --only notify --baseline <old checkout>/apps/api/dist/index.js\`, 3 rounds of 6 s, medians):

| @pay/api notify handling | before: req/s | after: req/s | before: CPU/req | after: CPU/req | after vs tenpay (c) |
|---|---:|---:|---:|---:|---:|
| SQLite, distinct notifies (each pays an order) | 1,800 | 3,993 | 544 µs | 261 µs | 0.87x |
| SQLite, duplicates of one paid order | 3,601 | 7,204 | 283 µs | 146 µs | 1.58x |
| PostgreSQL, distinct notifies | 1,118 | 4,227 | 1,376 µs | 306 µs | 0.92x |
| PostgreSQL, duplicates | 2,797 | 7,152 | 481 µs | 153 µs | 1.56x |

In the same run (a) did 40,332 req/s at 22 µs per request, (b) 23,691 at 38 µs and tenpay's middleware (c) 4,572 at 222 µs.
With 50 connections the batches held about 23 reads or writes each (counted in an instrumented copy).

### Why the two notify targets are still missed

The CPU a distinct notify cannot avoid, measured in process on this machine: reading the body and answering, as (b) does,
about 38 µs; \`parsePayNotify\` (strict XML parse, HMAC-SHA256 over every field, typed fields) 35 µs; its share of a
25-notify batch on SQLite (read, conditional update, event insert, commit) about 40 µs, of which 4 µs are the WAL checkpoints
SQLite runs inside the committing call. That is about 113 µs before routing, logging, the order match and garbage collection.
0.6x of (b) leaves about 70 µs per notify (1 / (0.6 x 23,691 req/s) on one busy core), less than verifying and storing it cost;
twice tenpay's rate leaves about 110 µs.
Both need a different shape rather than another fix of this path: more than one process per host (the second core here runs
the load generator), or moving the parse and verify off the event loop.

What would still move the figures, smallest change first: WAL checkpoints in a background connection (\`wal_autocheckpoint = 0\`
plus a periodic \`PRAGMA wal_checkpoint(PASSIVE)\`: 32 -> 28 µs of SQLite time per notify and p99 commit 6.5 -> 1.2 ms in a
micro-benchmark), a buffered log destination (one write per 4 KiB of lines instead of one per line: about 10 µs a request, at the cost
of the last lines on a crash), and one fewer JSON encoding of the notify's fields on SQLite.

### Scale and memory after this round

Five runs of the scale benchmark in this round each had at most one target figure above 1.2x, never the same one twice:
PostgreSQL notify CPU per request 1.21x (before the bench vacuumed after its own resets, outside the measured run), SQLite lookup
CPU per request 1.27x (before the API's SQLite page cache went from SQLite's 2 MiB to 64 MiB; with a million orders, scattered
lookups re-read most pages from the OS), and PostgreSQL notify p50 latency 1.22x in the published run above (its CPU per request
1.10x in the same run). Two runs had none. At 2,000 requests per run with 50 connections, latency on this shared 2-core machine
moves by about a fifth from run to run; the CPU per request column is the steadier of the two.

Memory: the larger page cache fills as the memory benchmark touches more orders, which is most of the RSS growth from 1,000 to
100,000 requests (130 to 180 MiB, bounded by the 64 MiB cache); the heap stays flat.
### The seams restructuring (issue 13): before and after, and the baseline slot's bias

Issue 13 moved the notify path behind a gateway port (the v2 adapter parses and types the notify; the route hands it raw bytes
and headers), moved every query into \`db/\` (writes return their rows) and registered the JSON API from the contract. Same run,
the tree before (\`--baseline\`, commit b75603e) beside the tree after, on a machine shared with other builds (3 rounds of 6 s,
medians; \`node apps/bench/dist/main.js --only notify,orders --baseline <b75603e checkout>/apps/api/dist/index.js\`):

| server CPU per notify | after | before (baseline slot) | after / before |
|---|---:|---:|---:|
| SQLite, distinct | 442 µs | 358 µs | 1.23x |
| SQLite, duplicate | 252 µs | 206 µs | 1.22x |
| PostgreSQL, distinct | 536 µs | 415 µs | 1.29x |
| PostgreSQL, duplicate | 281 µs | 205 µs | 1.37x |

The same comparison with the same build in both slots (an A/A run, \`--baseline\` pointing at this tree's own
\`apps/api/dist/index.js\`, minutes later, with more load on the machine) showed the same gap for identical code: 572 / 486 µs
(1.18x) and 317 / 267 µs (1.19x) on SQLite, 834 / 689 µs (1.21x) and 376 / 298 µs (1.26x) on PostgreSQL. The API in the
baseline slot measures about a fifth cheaper than the same API in the workspace slot, so these runs show no regression that
stands out of the slot's bias, and no improvement either. Two things follow: a before/after taken with \`--baseline\` needs an
A/A run beside it (or the two builds swapped between runs), and the earlier rounds' \`--baseline\` gains were if anything
understated. A clean before/after on a quiet machine, and the notify path's cost itself, are issue 20's work. One cost the restructuring had added was found while reading the new code and mended in
the same stop, unmeasured on its own (a few µs, below this bench's resolution): the v2 adapter encoded the verified fields
as JSON for \`payment_events.raw\` for every notify, duplicates included; \`PaidReport.rawJson()\` now encodes them only when a
payment is stored, as the code before the restructuring did.`;
