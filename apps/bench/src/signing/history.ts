// Hand-written history of the signing work, kept in docs/benchmarks.md under the signing figures.
// `pnpm bench` rewrites the whole file, so the text lives here.

/** The `## Signing: how @pay/core got there` section, as written when the work was done. */
export const SIGNING_HISTORY_HEADING = "## Signing: how @pay/core got there";

export const SIGNING_HISTORY = `Measured with the same command, interleaved, median of 15 rounds (ratios to bare; absolute rates drift
between runs on this shared 2-core machine).

| version of \`signParams\` | MD5 | HMAC-SHA256 | vs tenpay (MD5 / HMAC) |
|---|---:|---:|---:|
| first: \`Object.entries\` -> pairs -> \`Array#sort\` with a comparator -> hash with \`createHash\` / \`createHmac(string key)\` | 0.39x | 0.49x | 0.93x / 0.92x |
| plain objects: insertion sort by byte order, sorted shape cached (16 shapes), values read through \`Object.values\` | 0.50x | 0.64x | 1.20x / 1.20x |
| plus MD5 through Node's one-shot \`crypto.hash\`, HMAC with a cached \`KeyObject\` per API key | 0.66x-0.71x | 0.68x | 1.65x / 1.27x |

Profile of the first version (\`node --cpu-prof\`, 1.5 M MD5 signatures): about 42% hashing, 34% building
the canonical pairs (14% \`Object.entries\`, 15% the loop and sort), 10% GC. What is left above bare is
building the string to sign and flattening it for the hash; bare hashes a string joined once up front.`;
