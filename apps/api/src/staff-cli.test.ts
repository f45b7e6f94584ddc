import { describe, expect, it } from "vitest";
import { EXIT, main, parseStaffArguments, USAGE } from "./staff-cli.js";

describe("staff CLI arguments", () => {
  it.each([
    [["create", "--username", "ana", "--role", "operator"], { command: "create", username: "ana", role: "operator", json: false }],
    [["--", "set-role", "--username=ana", "--role=viewer"], { command: "set-role", username: "ana", role: "viewer", json: false }],
    [["disable", "--username", "ana"], { command: "disable", username: "ana", role: undefined, json: false }],
    [["list", "--json"], { command: "list", username: undefined, role: undefined, json: true }],
  ])("reads %j", (argv, expected) => {
    expect(parseStaffArguments(argv)).toEqual({ ok: true, value: expected });
  });

  it.each([
    [[], "a command is required."],
    [["delete", "--username", "ana"], "unknown command delete."],
    [["create", "--username", "ana"], "create needs --role viewer or --role operator."],
    [["create", "--role", "viewer"], "create needs --username."],
    [["create", "--username", "ana", "--role", "admin"], "--role admin: must be viewer or operator."],
    [["disable", "--username", "ana", "--role", "viewer"], "disable takes no --role."],
    [["list", "--username", "ana"], "list takes no --username."],
    [["enable", "--username"], "--username needs a value."],
    [["enable", "--username", "a", "--username", "b"], "--username is given twice."],
    [["enable", "--username", "a", "--password", "b"], "unknown option --password for enable."],
    [["enable", "--username", "a", "stray"], "unexpected argument stray."],
  ])("refuses %j: %s", (argv, problem) => {
    expect(parseStaffArguments(argv)).toEqual({ ok: false, problem });
  });

  it("prints the usage for --help and exits 2 with it on a usage error", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), readPassword: () => Promise.resolve("") };
    expect(await main(["--help"], {}, io)).toBe(EXIT.ok);
    expect(out.join("")).toBe(USAGE);
    expect(await main(["nope"], {}, io)).toBe(EXIT.usage);
    expect(err.join("")).toContain("staff: unknown command nope.");
  });
});
