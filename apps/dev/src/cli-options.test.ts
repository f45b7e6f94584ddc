import { describe, expect, it } from "vitest";
import { parseDemoArgs, parseStartArgs } from "./cli-options.js";
import { DevError } from "./errors.js";
import { cliArgs } from "./paths.js";
import { DEFAULT_PORTS } from "./stack.js";

function usageError(run: () => unknown): DevError {
  try {
    run();
  } catch (error) {
    if (error instanceof DevError) return error;
    throw error;
  }
  throw new Error("expected a DevError");
}

describe("parseStartArgs", () => {
  it("defaults to the domestic mode on the fixed ports, building the mini-program", () => {
    expect(parseStartArgs([])).toEqual({ kind: "start", mode: "domestic", envFile: undefined, dataDir: undefined, ports: DEFAULT_PORTS, buildMiniProgram: true });
  });

  it.each(["v3", "v3-partner", "v3-global"] as const)("reads the APIv3 mode %s", (mode) => {
    expect(parseStartArgs(["--mode", mode])).toMatchObject({ kind: "start", mode, envFile: undefined });
  });

  it("reads a mode, a config file, ports and the data folder", () => {
    expect(parseStartArgs(["--mode", "global", "--api-port=3100", "--sandbox-port", "0", "--gateway-port", "9000", "--data-dir", "/tmp/x", "--skip-miniprogram"])).toEqual({
      kind: "start",
      mode: "global",
      envFile: undefined,
      dataDir: "/tmp/x",
      ports: { api: 3100, sandbox: 0, gateway: 9000, fulfilment: DEFAULT_PORTS.fulfilment },
      buildMiniProgram: false,
    });
    expect(parseStartArgs(["--fulfilment-port", "9100"])).toMatchObject({ ports: { ...DEFAULT_PORTS, fulfilment: 9100 } });
    expect(() => parseStartArgs(["--fulfilment-port", "70000"])).toThrow(/--fulfilment-port must be a port number/);
    expect(parseStartArgs(["--config", "config/global.env"])).toMatchObject({ envFile: "config/global.env" });
    expect(parseStartArgs(["-h"])).toBe("help");
  });

  it.each([
    [["--mode", "overseas"], /--mode must be one of domestic, global, institutional, v3, v3-partner, v3-global/],
    [["--mode", "v4"], /--mode must be one of/],
    [["--mode", "global", "--config", "x.env"], /--mode or --config, not both/],
    [["--api-port", "70000"], /--api-port must be a port number/],
    [["--api-port", "-1"], /--api-port/],
    [["--verbose"], /verbose/],
    [["extra"], /extra/],
  ])("refuses %j", (argv, message) => {
    const error = usageError(() => parseStartArgs(argv));
    expect(error.code).toBe("USAGE");
    expect(error.message).toMatch(message);
  });
});

describe("parseDemoArgs", () => {
  it("runs one mode, or all six (three on APIv2, three on APIv3) with --all", () => {
    expect(parseDemoArgs([])).toEqual({ kind: "demo", modes: ["domestic"] });
    expect(parseDemoArgs(["--mode", "institutional"])).toEqual({ kind: "demo", modes: ["institutional"] });
    expect(parseDemoArgs(["--mode", "v3-partner"])).toEqual({ kind: "demo", modes: ["v3-partner"] });
    expect(parseDemoArgs(["--all"])).toEqual({ kind: "demo", modes: ["domestic", "global", "institutional", "v3", "v3-partner", "v3-global"] });
    expect(usageError(() => parseDemoArgs(["--all", "--mode", "global"])).code).toBe("USAGE");
  });
});

describe("cliArgs", () => {
  it("drops the -- a package manager may put in front", () => {
    expect(cliArgs(["--", "--mode", "global"])).toEqual(["--mode", "global"]);
    expect(cliArgs(["--mode", "global"])).toEqual(["--mode", "global"]);
  });
});
