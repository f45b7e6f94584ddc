#!/usr/bin/env node
import { readFileSync, realpathSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { GATEWAY_PATHS } from "./app.js";
import { SANDBOX_CONTROL_PATHS, SANDBOX_CONTROL_ROUTES, type SandboxControlCall } from "./control/routes.js";
import { HELP_TEXT, parseCliArgs, type CliErrorCode, type CliStart } from "./cli-options.js";
import { startSandbox, type RunningSandbox, type SandboxTls } from "./server.js";
import { createSandboxPki, writeSandboxPki, type SandboxPkiPaths } from "./tls/pki.js";
import { V3_GATEWAY_PATHS } from "./v3/router.js";

/** A bad command line or config file: main prints the message without a stack and exits 1. */
export class CliError extends Error {
  constructor(
    readonly code: CliErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** Where runCli reads and writes; tests pass their own. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  /** Reads the --config file as text; defaults to the file system. */
  readonly readFile?: (path: string) => string;
  /** Makes the demo merchant's API key, app secret and APIv3 key; defaults to 32 random characters. */
  readonly newSecret?: () => string;
}

/** What each control call takes, for the startup banner. */
const CONTROL_HINTS: Record<SandboxControlCall, string> = {
  listMerchants: "",
  createLoginCode: "{appid, user?}",
  pay: "{prepay_id, outcome: success|cancel|fail, payment? (v3), notify?}",
  listOrders: "?out_trade_no=&mch_id=",
  listDeliveries: "?out_trade_no=&kind=pay|refund",
  settleRefund: "{mch_id, sub_mch_id?, out_refund_no, status, notify?}",
  listFaults: "",
  addFault: "",
  clearFaults: "",
  getLatency: "",
  setLatency: "{latency_ms}",
  createForeignPayment: "{mch_id, sub_mch_id?, out_trade_no, total_fee, fee_type?, openid?}",
  createForeignRefund: "{mch_id, sub_mch_id?, out_trade_no, out_refund_no, refund_fee}",
  listDiscrepancies: "",
  addDiscrepancy: "{kind, mch_id, sub_mch_id?, ...}",
  clearDiscrepancies: "",
  listBillFaults: "",
  addBillFault: "{mch_id, sub_mch_id?, bill_date, fault, times?}",
  clearBillFaults: "",
  v3Keys: "?mch_id=",
  rotateV3Certificate: "{mch_id, overlap_ms?}",
};

/** The control API (SANDBOX_CONTROL_ROUTES), one line per path, listed in the startup banner. */
function controlApiLines(): string[] {
  const byPath = new Map<string, { methods: string[]; hint: string }>();
  for (const [call, route] of Object.entries(SANDBOX_CONTROL_ROUTES) as Array<[SandboxControlCall, (typeof SANDBOX_CONTROL_ROUTES)[SandboxControlCall]]>) {
    const line = byPath.get(route.path) ?? { methods: [], hint: "" };
    line.methods.push(route.method);
    line.hint ||= CONTROL_HINTS[call];
    byPath.set(route.path, line);
  }
  return [...byPath].map(([path, { methods, hint }]) => `${methods.join("|").padEnd(6)} ${hint === "" ? path : `${path.padEnd(33)}${hint}`}`);
}

/** The banner's labels ("Gateway v2:   ") are this wide; a wrapped list's next lines start below the list. */
const BANNER_LABEL_WIDTH = 14;
const BANNER_WIDTH = 120;

/** Addresses that listen everywhere and so name no host a certificate could be issued for. */
const WILDCARD_HOSTS = new Set(["0.0.0.0", "::"]);

/**
 * Runs the command line: prints the help (and returns undefined) or starts the sandbox, prints the
 * startup banner and returns it running. A bad command line or config throws CliError.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<RunningSandbox | undefined> {
  const parsed = parseCliArgs(argv, io.readFile ?? ((path) => readFileSync(path, "utf8")), io.newSecret);
  if (!parsed.ok) throw new CliError(parsed.error.code, parsed.error.message);
  const command = parsed.value;
  if (command.kind === "help") {
    io.stdout.write(HELP_TEXT);
    return undefined;
  }

  let tls: SandboxTls | undefined;
  let pkiPaths: SandboxPkiPaths | undefined;
  if (command.https) {
    const pki = createSandboxPki({
      mchIds: command.options.merchants.map((m) => m.mchId),
      hostnames: WILDCARD_HOSTS.has(command.host) ? [] : [command.host],
    });
    pkiPaths = await writeSandboxPki(pki, resolve(command.pkiDir));
    tls = { key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert };
  }
  const sandbox = await startSandbox({ ...command.options, host: command.host, port: command.port, ...(tls === undefined ? {} : { tls }) });
  io.stdout.write(formatBanner(command, sandbox, pkiPaths));
  return sandbox;
}

/** `prefix` then `items` joined by ", ", wrapped at `width` characters; the next lines are indented to the prefix's width. */
function wrapList(prefix: string, items: readonly string[], width: number): string {
  const indent = " ".repeat(BANNER_LABEL_WIDTH);
  const lines: string[] = [];
  let line = prefix;
  let empty = true;
  for (const item of items) {
    if (!empty && line.length + 2 + item.length > width) {
      lines.push(`${line},`);
      line = indent + item;
    } else {
      line = empty ? line + item : `${line}, ${item}`;
    }
    empty = false;
  }
  lines.push(line);
  return lines.join("\n");
}

/** Each v3 merchant (one per mchid): key mode, serials, public key ID, APIv3 key, and where its key files are. */
function v3MerchantLines(sandbox: RunningSandbox): string[] {
  const identities = sandbox.context.v3.all();
  if (identities.length === 0) return [];
  const now = sandbox.context.clock.now();
  const lines = ["", sandbox.v3KeyFiles === undefined ? "APIv3 merchants:" : `APIv3 merchants (key files in ${sandbox.v3KeyFiles.dir}):`];
  for (const identity of identities) {
    lines.push(
      `  mchid ${identity.mchId}  key mode ${identity.keyMode}`,
      `    APIv3 key              ${identity.apiV3Key}`,
      `    merchant serial_no     ${identity.merchantCertificate.serial}`,
    );
    if (identity.publicKey !== undefined) lines.push(`    public key ID          ${identity.publicKey.id}`);
    const serials = sandbox.context.v3.liveCertificates(identity, now).map((c) => c.serial);
    if (serials.length > 0) lines.push(`    platform certificates  ${serials.join(", ")}`);
    const files = sandbox.v3KeyFiles?.merchants[identity.mchId];
    if (files === undefined) continue;
    const paths = [files.merchantKey, files.merchantCertificate, files.publicKey, files.publicKeyId, ...files.platformCertificates, files.summary, files.readme];
    lines.push("    files", ...paths.filter((path) => path !== undefined).map((path) => `      ${path}`));
  }
  return lines;
}

/** The one place secrets are shown: the merchants' keys, APIv3 keys and app secrets, once, at start. Never a private key. */
function formatBanner(command: CliStart, sandbox: RunningSandbox, pkiPaths: SandboxPkiPaths | undefined): string {
  const { url } = sandbox;
  const hasV3 = sandbox.context.v3.all().length > 0;
  const lines = [`WeChat Pay sandbox (v2 + v3) listening on ${url}`, ""];
  lines.push(command.demo ? `Merchant (demo; ${hasV3 ? "keys, APIv3 key" : "key"} and app secret are new on every start):` : "Merchants:");
  for (const m of command.options.merchants) {
    const sub = [m.subAppId === undefined ? "" : `  sub_appid ${m.subAppId}`, m.subMchId === undefined ? "" : `  sub_mch_id ${m.subMchId}`].join("");
    const protocols = [m.key === undefined ? undefined : "v2", m.v3 === undefined ? undefined : "v3"].filter((p) => p !== undefined).join(" + ");
    lines.push(`  appid ${m.appId}  mch_id ${m.mchId}${sub}  profile ${m.profile}  ${protocols}`);
    if (m.key !== undefined) lines.push(`    key         ${m.key}`);
    for (const [appId, secret] of Object.entries(m.appSecrets)) lines.push(`    app secret  ${appId}: ${secret}`);
  }
  lines.push(...v3MerchantLines(sandbox));
  lines.push(
    "",
    wrapList(`Gateway v2:   ${url} + `, Object.values(GATEWAY_PATHS), BANNER_WIDTH),
    wrapList(`Gateway v3:   ${url} + `, Object.values(V3_GATEWAY_PATHS), BANNER_WIDTH),
    `Cashier:      ${url}${SANDBOX_CONTROL_PATHS.cashier}?prepay_id=<prepay_id>`,
    "Control API:",
    ...controlApiLines().map((line) => `  ${line}`),
    "",
  );
  const hasV2 = command.options.merchants.some((m) => m.key !== undefined);
  if (!hasV2) {
    lines.push("Refunds:      need no client certificate (APIv3 has none).");
  } else if (!command.options.requireClientCert) {
    lines.push("Refunds:      accepted without a client certificate (--no-client-cert).");
  } else if (pkiPaths === undefined) {
    lines.push("Refunds:      need a client certificate, which plain HTTP cannot carry: they answer HTTP 400.", "              Use --https, or --no-client-cert.");
  } else {
    lines.push("Refunds:      need a client certificate issued by the CA below, with CN = mch_id.");
  }
  if (hasV3) {
    if (hasV2) lines.push("              v3 refunds need none (APIv3 has no client certificate).");
    lines.push(
      command.options.allowHttpNotifyUrl
        ? "v3 notifies:  http:// notify URLs accepted (--allow-http-notify-url)."
        : "v3 notifies:  https:// notify URLs only, as on the real gateway (--allow-http-notify-url accepts http://).",
    );
    if (command.options.notify.signatureProbe) lines.push("              Each is sent first with a WECHATPAY/SIGNTEST/ signature (--signature-probe): refuse it.");
  }
  if (pkiPaths !== undefined) {
    lines.push(
      `PKI:          ${pkiPaths.dir}`,
      `  CA (trust it as the gateway's root)  ${pkiPaths.ca}`,
      `  server certificate                   ${pkiPaths.serverCert}`,
      `  server key                           ${pkiPaths.serverKey}`,
    );
    for (const [mchId, files] of Object.entries(pkiPaths.clients)) {
      lines.push(`  ${mchId} client cert / key / p12 (password = mch_id)`, `    ${files.cert}`, `    ${files.key}`, `    ${files.p12}`);
    }
  }
  lines.push("", "Ctrl+C stops the sandbox.", "");
  return lines.join("\n");
}

/** Runs the CLI as a program: exit codes, and SIGINT/SIGTERM stop the sandbox cleanly. */
export async function main(): Promise<void> {
  let sandbox: RunningSandbox | undefined;
  try {
    sandbox = await runCli(process.argv.slice(2), { stdout: process.stdout });
  } catch (error) {
    process.stderr.write(`pay-sandbox: ${error instanceof Error ? error.message : String(error)}\n`);
    if (error instanceof CliError && error.code === "USAGE") process.stderr.write("Run pay-sandbox --help for the options.\n");
    process.exit(1);
  }
  if (sandbox === undefined) return;
  const running = sandbox;
  // `once`: a second Ctrl+C gets Node's default and ends the process even if stopping hangs.
  const stop = (signal: NodeJS.Signals): void => {
    process.stdout.write(`\n${signal}: stopping the sandbox.\n`);
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`pay-sandbox: stopping failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

/** True when this file is the program (`node dist/cli.js`), not imported by a test or the bin shim. */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) void main();
