#!/usr/bin/env node
// The pay-sandbox command. A committed shim, so that pnpm can link the bin before the first build.
import { main } from "../dist/cli.js";

await main();
