// `node dist/main.js` (pnpm --filter @pay/api start): runs the API with the process environment.
import { main } from "./server.js";

await main();
