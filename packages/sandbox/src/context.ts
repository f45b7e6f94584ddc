import type { Clock } from "./clock.js";
import type { Notifier } from "./notifier/notifier.js";
import type { Merchant, SandboxOptions } from "./options.js";
import type { SandboxStore } from "./state/store.js";

/** Everything a route needs, built once by createSandbox. */
export interface SandboxContext {
  readonly options: SandboxOptions;
  readonly clock: Clock;
  readonly store: SandboxStore;
  readonly notifier: Notifier;
  /** The merchant for a request's mch_id (and sub_mch_id in institutional mode). */
  findMerchant(mchId: string | undefined, subMchId: string | undefined): Merchant | undefined;
}
