/**
 * The API contract's version: the @pay/core version it ships in (a test keeps them equal, and
 * `pnpm release:version` rewrites it). The mini-program sends it on every request; the API answers
 * with its own on every response.
 */
export const CONTRACT_VERSION = "0.1.0";

/** The header both tiers use for it. */
export const CONTRACT_VERSION_HEADER = "X-Pay-Contract";

/** How a client's contract version relates to the server's. */
export type ContractCompatibility = "current" | "deprecated" | "unsupported" | "invalid";

const SEMVER = /^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})(?:-[0-9A-Za-z.-]{1,32})?$/;

/**
 * The release line a version belongs to: its major, or for 0.x its minor too (semver's caret rule:
 * before 1.0 a minor release may break the contract).
 */
function lineOf(version: string): [number, number] | undefined {
  const match = SEMVER.exec(version);
  if (match === null) return undefined;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  return major === 0 ? [0, minor] : [major, 0];
}

/**
 * Whether a server on `serverVersion` serves a client on `clientVersion`: the same line is current;
 * the line before is deprecated but still served (the window in which old mini-program versions in
 * users' hands keep working); anything else, older or newer, is unsupported.
 */
export function contractCompatibility(clientVersion: string, serverVersion: string = CONTRACT_VERSION): ContractCompatibility {
  const client = lineOf(clientVersion);
  const server = lineOf(serverVersion);
  if (client === undefined || server === undefined) return "invalid";
  if (client[0] === server[0] && client[1] === server[1]) return "current";
  const previous: [number, number] = server[0] === 0 ? [0, server[1] - 1] : [server[0] - 1, 0];
  if (client[0] === previous[0] && client[1] === previous[1]) return "deprecated";
  return "unsupported";
}
