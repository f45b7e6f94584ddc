#!/usr/bin/env node
// After `changeset version` bumps the fixed release line, writes @pay/core's new version into
// CONTRACT_VERSION, so the contract the tiers exchange in X-Pay-Contract is the released one.
import { readFileSync, writeFileSync } from "node:fs";

const root = new URL("..", import.meta.url);
const { version } = JSON.parse(readFileSync(new URL("packages/core/package.json", root), "utf8"));
const file = new URL("packages/core/src/contract/version.ts", root);
const source = readFileSync(file, "utf8");
const updated = source.replace(/export const CONTRACT_VERSION = "[^"]*";/, `export const CONTRACT_VERSION = "${version}";`);
if (updated === source && !source.includes(`CONTRACT_VERSION = "${version}"`)) {
  console.error("sync-contract-version: CONTRACT_VERSION not found in packages/core/src/contract/version.ts");
  process.exit(1);
}
writeFileSync(file, updated);
console.log(`CONTRACT_VERSION = ${version}`);
