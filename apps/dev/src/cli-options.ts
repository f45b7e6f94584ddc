import { parseArgs } from "node:util";
import { DevError } from "./errors.js";
import { DEV_MODES, isDevMode, type DevMode } from "./modes.js";
import { DEFAULT_PORTS, type DevPorts } from "./stack.js";

/** `start`: which config, which ports, where the data lives. */
export interface StartOptions {
  readonly kind: "start";
  readonly mode: DevMode;
  readonly envFile: string | undefined;
  readonly dataDir: string | undefined;
  readonly ports: DevPorts;
  readonly buildMiniProgram: boolean;
}

/** `demo`: the modes to walk through, one after the other. */
export interface DemoOptions {
  readonly kind: "demo";
  readonly modes: readonly DevMode[];
}

export const START_HELP = `Usage: pnpm start [-- options]

Starts the sandbox and the API (SQLite under ./data, a development config generated on first run),
builds the mini-program against the local API and prints what runs where.

  --mode <mode>          ${DEV_MODES.join(" | ")} (default domestic): uses data/dev.<mode>.env;
                         the v3 modes run APIv3 with keys the sandbox generates under data/sandbox-v3-keys/<mode>
  --config <file>        your own env file instead (see config/*.env.example); its merchant sets the mode
  --data-dir <dir>       default ./data at the repository root
  --api-port <port>      default ${DEFAULT_PORTS.api}
  --sandbox-port <port>  default ${DEFAULT_PORTS.sandbox} (cashier, control API, wx.login)
  --gateway-port <port>  default ${DEFAULT_PORTS.gateway} (the sandbox's HTTPS gateway)
  --fulfilment-port <port>  default ${DEFAULT_PORTS.fulfilment} (the shop's fulfilment receiver: order events as webhooks)
  --skip-miniprogram     do not build the mini-program
  -h, --help             this text
`;

export const DEMO_HELP = `Usage: pnpm demo [-- options]

Walks one purchase through the real HTTP API as the mini-program does it: login, products, order,
pay at the sandbox, notify, paid, partial refund, refund notify, and the shop's fulfilment receiver getting
order.paid and refund.succeeded as signed webhooks, verified. Starts its own sandbox and API on free
ports in a temporary folder. Exits 1 when a step fails.

  --mode <mode>   ${DEV_MODES.join(" | ")} (default domestic)
  --all           every mode, one after the other
  -h, --help      this text
`;

function mode(value: string | undefined): DevMode {
  if (value === undefined) return "domestic";
  if (!isDevMode(value)) throw new DevError("USAGE", `--mode must be one of ${DEV_MODES.join(", ")}; got ${JSON.stringify(value)}.`);
  return value;
}

function port(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new DevError("USAGE", `${flag} must be a port number from 0 to 65535; got ${JSON.stringify(value)}.`);
  return Number(value);
}

/** Runs node:util's parseArgs, turning its complaints (unknown flag, missing value) into USAGE errors. */
function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new DevError("USAGE", error instanceof Error ? error.message : String(error));
  }
}

/** Parses `start`'s flags; "help" when asked for; throws DevError USAGE for anything else. */
export function parseStartArgs(argv: readonly string[]): StartOptions | "help" {
  const { values } = asUsage(() =>
    parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        mode: { type: "string" },
        // Not --env-file: Node 20 reads any --env-file* argument itself, even after the script (nodejs/node#54232).
        config: { type: "string" },
        "data-dir": { type: "string" },
        "api-port": { type: "string" },
        "sandbox-port": { type: "string" },
        "gateway-port": { type: "string" },
        "fulfilment-port": { type: "string" },
        "skip-miniprogram": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }),
  );
  if (values.help === true) return "help";
  if (values.mode !== undefined && values.config !== undefined) throw new DevError("USAGE", "Use --mode or --config, not both: an env file's merchant decides its mode.");
  return {
    kind: "start",
    mode: mode(values.mode),
    envFile: values.config,
    dataDir: values["data-dir"],
    ports: {
      api: port(values["api-port"], "--api-port", DEFAULT_PORTS.api),
      sandbox: port(values["sandbox-port"], "--sandbox-port", DEFAULT_PORTS.sandbox),
      gateway: port(values["gateway-port"], "--gateway-port", DEFAULT_PORTS.gateway),
      fulfilment: port(values["fulfilment-port"], "--fulfilment-port", DEFAULT_PORTS.fulfilment),
    },
    buildMiniProgram: values["skip-miniprogram"] !== true,
  };
}

/** Parses the demo's flags; "help" when asked for; throws DevError USAGE for anything else. */
export function parseDemoArgs(argv: readonly string[]): DemoOptions | "help" {
  const { values } = asUsage(() =>
    parseArgs({ args: [...argv], strict: true, allowPositionals: false, options: { mode: { type: "string" }, all: { type: "boolean" }, help: { type: "boolean", short: "h" } } }),
  );
  if (values.help === true) return "help";
  if (values.all === true && values.mode !== undefined) throw new DevError("USAGE", "Use --mode or --all, not both.");
  return { kind: "demo", modes: values.all === true ? DEV_MODES : [mode(values.mode)] };
}
