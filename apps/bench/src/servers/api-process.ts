// The API as deployed (`main` from @pay/api, configured by the environment) plus the bench's IPC:
// a ready message once it listens, and memory samples after a full GC. Nothing new in the API itself.
import { pathToFileURL } from "node:url";
import type * as PayApi from "@pay/api";
import { answerMemoryRequests, type ReadyMessage } from "./protocol.js";

/** Set by `--baseline <checkout>`: run another build of the API (e.g. before a change) instead of this workspace's. */
const baseline = process.env.PAY_BENCH_API_MODULE;
const { main } = (baseline === undefined ? await import("@pay/api") : await import(pathToFileURL(baseline).href)) as typeof PayApi;

await main(process.env);
answerMemoryRequests();
const ready: ReadyMessage = { type: "ready", port: Number(process.env.PORT) };
process.send?.(ready);
