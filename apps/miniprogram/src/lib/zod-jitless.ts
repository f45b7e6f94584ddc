// WeChat runs no eval or new Function. zod would otherwise probe for them when a schema is built and
// compile its object parsers with them where they work (in the tests, on Node). Set before any schema
// exists, so that every parser is the interpreted one a phone runs: pay-core.ts imports this first.
import { config } from "zod";

config({ jitless: true });
