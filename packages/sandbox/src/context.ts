import type { BillControls } from "./bills/bill-controls.js";
import type { Clock } from "./clock.js";
import type { Notifier } from "./notifier/notifier.js";
import type { Merchant, SandboxOptions, V2Merchant } from "./options.js";
import type { V3Identities } from "./v3/identity.js";
import type { SandboxStore } from "./state/store.js";

/** Everything a route needs, built once by createSandbox. */
export interface SandboxContext {
  readonly options: SandboxOptions;
  readonly clock: Clock;
  readonly store: SandboxStore;
  readonly notifier: Notifier;
  /** The reconciliation controls: bill overrides and bill-file faults. */
  readonly bills: BillControls;
  /** The v3 identities (keys, certificates, signing mode) of the merchants configured for v3. */
  readonly v3: V3Identities;
  /** The merchant for a mch_id (and sub_mch_id in institutional mode), whatever protocols it uses. */
  findMerchant(mchId: string | undefined, subMchId: string | undefined): Merchant | undefined;
  /** The merchant for a v2 request's mch_id (and sub_mch_id): only merchants with a v2 key. */
  findV2Merchant(mchId: string | undefined, subMchId: string | undefined): V2Merchant | undefined;
}
