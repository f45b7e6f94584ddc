import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import type { Middleware } from "koa";

/** The path the built console is served under (its Vite `base`). */
export const CONSOLE_PATH = "/console";
/** What /console answers while apps/console has not been built. */
export const CONSOLE_NOT_BUILT = "the console is not built: run pnpm build";

/**
 * The console's security headers: its own scripts, styles and API only (no inline script, no eval, no
 * third-party origin), never framed, no <base>, forms only to itself; no MIME sniffing; no Referer sent.
 */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

const IMMUTABLE = "public, max-age=31536000, immutable";
const NO_CACHE = "no-cache";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff2": "font/woff2",
  ".woff": "font/woff",
  ".txt": "text/plain; charset=utf-8",
};

interface ConsoleFile {
  readonly body: Buffer;
  readonly type: string;
  readonly cacheControl: string;
}

/** The built console held in memory: index.html (undefined when not built) and every other file by its URL path under /console/. */
export interface ConsoleFiles {
  readonly index: Buffer | undefined;
  readonly files: ReadonlyMap<string, ConsoleFile>;
}

function listFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) found.push(path);
    }
  };
  walk(dir);
  return found;
}

/**
 * Reads the built console once (at start): every regular file under `dir`, keyed by its URL path. Requests
 * are answered from this index only, so no request can name a file outside it (no path traversal, no
 * symlink followed). A missing or empty folder gives a console that is "not built".
 */
export function loadConsoleFiles(dir: string): ConsoleFiles {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) return { index: undefined, files: new Map() };
  const files = new Map<string, ConsoleFile>();
  let index: Buffer | undefined;
  for (const path of listFiles(dir)) {
    const urlPath = `${CONSOLE_PATH}/${relative(dir, path).split(sep).join("/")}`;
    const body = readFileSync(path);
    if (urlPath === `${CONSOLE_PATH}/index.html`) {
      index = body;
      continue;
    }
    const type = CONTENT_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
    // Vite names every file under assets/ by its content hash: a changed file gets a new name.
    const cacheControl = urlPath.startsWith(`${CONSOLE_PATH}/assets/`) ? IMMUTABLE : NO_CACHE;
    files.set(urlPath, { body, type, cacheControl });
  }
  return { index, files };
}

function isConsolePath(path: string): boolean {
  return path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`);
}

/**
 * Serves the built console at /console: a listed file as itself (hashed assets cached for a year,
 * immutable), and index.html (never cached without revalidation) for /console and every other path under
 * it, where the console's router takes over; a missing file under /console/assets/ is a 404, never the
 * page. Every answer carries the console's security headers. Other paths go on to the API.
 */
export function createConsoleMiddleware(files: ConsoleFiles): Middleware {
  return async function serveConsole(ctx, next): Promise<void> {
    if (!isConsolePath(ctx.path)) {
      await next();
      return;
    }
    ctx.set(CONSOLE_SECURITY_HEADERS);
    if (ctx.method !== "GET" && ctx.method !== "HEAD") {
      ctx.status = 405;
      ctx.set("Allow", "GET, HEAD");
      ctx.type = "text/plain";
      ctx.body = "the console answers GET and HEAD only";
      return;
    }
    if (files.index === undefined) {
      ctx.status = 404;
      ctx.set("Cache-Control", NO_CACHE);
      ctx.type = "text/plain";
      ctx.body = CONSOLE_NOT_BUILT;
      return;
    }
    const file = files.files.get(ctx.path);
    if (file !== undefined) {
      ctx.status = 200;
      ctx.set("Cache-Control", file.cacheControl);
      ctx.type = file.type;
      ctx.body = file.body;
      return;
    }
    if (ctx.path.startsWith(`${CONSOLE_PATH}/assets/`)) {
      ctx.status = 404;
      ctx.set("Cache-Control", NO_CACHE);
      ctx.type = "text/plain";
      ctx.body = "no such console file";
      return;
    }
    ctx.status = 200;
    ctx.set("Cache-Control", NO_CACHE);
    ctx.type = "text/html; charset=utf-8";
    ctx.body = files.index;
  };
}
