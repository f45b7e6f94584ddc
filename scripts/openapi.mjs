#!/usr/bin/env node
// Writes docs/openapi.json from @pay/core/contract (build @pay/core first: `pnpm openapi` does).
// packages/core/src/contract/openapi.test.ts fails while the committed file differs from this output.
import { writeFileSync } from "node:fs";
import { buildOpenApiDocument } from "../packages/core/dist/contract/index.js";

const file = new URL("../docs/openapi.json", import.meta.url);
const document = buildOpenApiDocument();
writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
console.log(`docs/openapi.json: OpenAPI ${document.openapi}, contract ${document.info.version}, ${Object.keys(document.paths).length} paths`);
