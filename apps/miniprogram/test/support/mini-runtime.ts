import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import vm from "node:vm";
import type { WxPort } from "../../src/utils/wx-port.js";
import { createWxmlRenderer, type WxmlElement, type WxmlNode, type WxmlRenderer } from "./compilers.js";

/**
 * A WeChat mini-program runtime in miniature, for running the build output in Node:
 * - modules load the way the WeChat runtime loads them: relative paths inside the package only, so a
 *   stray `require("zod")` or `require("crypto")` fails here as it would on a phone; Node's own
 *   globals (process, Buffer, ...) are hidden from the app's code;
 * - App() and Page() register their options; pages live on a stack that wx.navigateTo, redirectTo,
 *   navigateBack and reLaunch drive, with onLoad/onShow/onReady/onHide/onUnload called in order;
 * - setData merges top-level keys into `data` as JSON, as the view layer would receive it;
 * - the view is the page's real WXML, compiled by the official wcc and rendered with `data`, and
 *   taps go to the handler the WXML binds, with the element's dataset.
 * What it does not do: layout, WXSS, components, WXS, the view/logic thread split and its delays,
 * or any wx API the app does not use (those throw, so a new use is noticed).
 */

/** The part of `wx` a test provides: the network, sign-in and the payment sheet. */
export type Platform = Pick<WxPort, "login" | "request" | "requestPayment">;

export interface PageInstance {
  readonly route: string;
  readonly options: Readonly<Record<string, string>>;
  readonly data: Record<string, unknown>;
  setData(patch: Record<string, unknown>, callback?: () => void): void;
  readonly [member: string]: unknown;
}

export interface MiniRuntime {
  /** The `wx` the app's code sees. */
  readonly wx: Readonly<Record<string, unknown>>;
  /** wx storage, as the app left it. */
  readonly storage: Map<string, unknown>;
  /** Every navigation, as "<api> <url>". */
  readonly navigations: string[];
  /** The title of every wx.showToast. */
  readonly toasts: string[];
  /** Exceptions thrown and promises rejected by lifecycle functions and handlers. A real client would only log them. */
  readonly errors: unknown[];
  /** Loads app.js, runs App's onLaunch and opens `url` (the first page of app.json by default). */
  launch(url?: string): PageInstance;
  /** The page on top of the stack. */
  current(): PageInstance;
  stack(): readonly PageInstance[];
  /** The page's WXML rendered with its current data. */
  render(page?: PageInstance): WxmlElement;
  /** The text of element `#id` (or of the whole page), whitespace collapsed; undefined when absent. */
  text(id?: string, page?: PageInstance): string | undefined;
  /** Taps element `#id`: its bindtap handler runs with the element's dataset. `times` taps the same element before any re-render (a double tap). */
  tap(id: string, options?: { readonly page?: PageInstance; readonly times?: number }): Promise<void>;
  /** Waits until every lifecycle function and handler that returned a promise has settled. */
  idle(): Promise<void>;
  /** The back button: closes the top `delta` pages and shows the one below. */
  back(delta?: number): void;
  /** Unloads every page (onUnload runs, so pages stop their timers), as closing the mini-program does. */
  close(): void;
}

/** Node's globals, hidden from the app's modules: WeChat has none of them. */
const HIDDEN_NODE_GLOBALS = ["process", "Buffer", "global", "setImmediate", "clearImmediate", "__dirname", "__filename"] as const;
/** WeChat keeps at most ten pages on the stack. */
const MAX_STACK = 10;

const renderers = new Map<string, WxmlRenderer>();

function rendererFor(dir: string, pages: readonly string[]): WxmlRenderer {
  let renderer = renderers.get(dir);
  if (renderer === undefined) {
    renderer = createWxmlRenderer(
      dir,
      pages.map((page) => `${page}.wxml`),
    );
    renderers.set(dir, renderer);
  }
  return renderer;
}

type Options = Record<string, unknown> & { data?: Record<string, unknown> };
type Callbacks = { success?: (result: unknown) => void; fail?: (result: unknown) => void; complete?: (result: unknown) => void };

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

function jsonClone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** `data-product-id` -> `productId`, as WeChat builds `dataset`. */
function datasetOf(attr: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const dataset: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(attr)) {
    if (!name.startsWith("data-")) continue;
    dataset[
      name
        .slice(5)
        .toLowerCase()
        .replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())
    ] = value;
  }
  return dataset;
}

function findElement(node: WxmlNode, id: string): WxmlElement | undefined {
  if (typeof node === "string") return undefined;
  if (node.attr?.id === id) return node;
  for (const child of node.children) {
    const found = findElement(child, id);
    if (found !== undefined) return found;
  }
  return undefined;
}

function ids(node: WxmlNode): string[] {
  if (typeof node === "string") return [];
  const own = typeof node.attr?.id === "string" ? [node.attr.id] : [];
  return [...own, ...node.children.flatMap(ids)];
}

/** The text content of a node. */
export function textOf(node: WxmlNode): string {
  const raw = typeof node === "string" ? node : node.children.map(textOf).join(" ");
  return raw.replace(/\s+/g, " ").trim();
}

export function createMiniRuntime(options: { readonly dir: string; readonly platform: Platform }): MiniRuntime {
  const dir = resolve(options.dir);
  const appJson = JSON.parse(readFileSync(join(dir, "app.json"), "utf8")) as { pages: string[] };
  const storage = new Map<string, unknown>();
  const navigations: string[] = [];
  const toasts: string[] = [];
  const errors: unknown[] = [];
  const pending = new Set<Promise<unknown>>();
  const modules = new Map<string, { exports: unknown }>();
  const pageOptions = new Map<string, Options>();
  const stack: PageInstance[] = [];
  let app: Options | undefined;
  let registering: string | undefined;

  function track(value: unknown): void {
    if (!isThenable(value)) return;
    const promise: Promise<unknown> = Promise.resolve(value).then(
      () => pending.delete(promise),
      (error: unknown) => {
        errors.push(error);
        pending.delete(promise);
      },
    );
    pending.add(promise);
  }

  function fire(target: Record<string, unknown>, name: string, ...args: unknown[]): void {
    const fn = target[name];
    if (typeof fn !== "function") return;
    try {
      track((fn as (...a: unknown[]) => unknown).apply(target, args));
    } catch (error) {
      errors.push(error);
    }
  }

  function load(file: string): unknown {
    const cached = modules.get(file);
    if (cached !== undefined) return cached.exports;
    const module = { exports: {} as unknown };
    modules.set(file, module);
    const globals: Record<string, unknown> = {
      wx,
      App: (appOptions: Options) => {
        if (app !== undefined) throw new Error("App() was called twice");
        app = appOptions;
      },
      Page: (options: Options) => {
        if (registering === undefined) throw new Error(`Page() was called outside a page's own module (in ${relative(dir, file)})`);
        pageOptions.set(registering, options);
      },
      Component: () => {
        throw new Error("Component() is not simulated by the test runtime");
      },
      getApp: () => {
        if (app === undefined) throw new Error("getApp() was called before App()");
        return app;
      },
      getCurrentPages: () => [...stack],
    };
    const params = ["require", "module", "exports", ...Object.keys(globals), ...HIDDEN_NODE_GLOBALS];
    const compiled = vm.compileFunction(readFileSync(file, "utf8"), params, { filename: file }) as (...args: unknown[]) => unknown;
    compiled(requireFrom(file), module, module.exports, ...Object.values(globals), ...HIDDEN_NODE_GLOBALS.map(() => undefined));
    return module.exports;
  }

  function requireFrom(from: string): (specifier: string) => unknown {
    return (specifier) => {
      if (!specifier.startsWith("./") && !specifier.startsWith("../")) {
        throw new Error(`require("${specifier}") in ${relative(dir, from)}: the WeChat runtime loads only the mini-program's own files, by relative path`);
      }
      let target = resolve(dirname(from), specifier);
      if (!target.endsWith(".js")) target += ".js";
      if (!target.startsWith(dir + sep) || !existsSync(target)) throw new Error(`require("${specifier}") in ${relative(dir, from)}: no such file in the mini-program`);
      return load(target);
    };
  }

  function parseUrl(url: string): { route: string; query: Record<string, string> } | undefined {
    const [path = "", search = ""] = url.split("?", 2);
    const route = path.replace(/^\//, "");
    if (!appJson.pages.includes(route)) return undefined;
    const query: Record<string, string> = {};
    for (const pair of search.split("&").filter((p) => p !== "")) {
      const [name = "", value = ""] = pair.split("=", 2);
      query[decodeURIComponent(name)] = decodeURIComponent(value);
    }
    return { route, query };
  }

  function optionsFor(route: string): Options {
    if (!pageOptions.has(route)) {
      registering = route;
      try {
        load(join(dir, `${route}.js`));
      } finally {
        registering = undefined;
      }
    }
    const options = pageOptions.get(route);
    if (options === undefined) throw new Error(`${route}.js did not call Page()`);
    return options;
  }

  function open(route: string, query: Record<string, string>): PageInstance {
    const options = optionsFor(route);
    const instance: Record<string, unknown> = {};
    // Each instance gets its own copy of the options' plain values, as WeChat gives it.
    for (const [key, value] of Object.entries(options)) instance[key] = typeof value === "function" ? value : structuredClone(value);
    const data: Record<string, unknown> = structuredClone(options.data ?? {});
    Object.assign(instance, {
      route,
      options: query,
      data,
      setData(patch: Record<string, unknown>, callback?: () => void) {
        for (const [key, value] of Object.entries(patch)) {
          if (/[.[\]]/.test(key)) throw new Error(`setData key "${key}": data paths are not simulated by the test runtime`);
          if (value === undefined) throw new Error(`setData key "${key}" is undefined; WeChat drops such keys with a warning`);
          data[key] = jsonClone(value);
        }
        if (callback !== undefined) void Promise.resolve().then(callback);
      },
    });
    const page = instance as unknown as PageInstance;
    stack.push(page);
    fire(instance, "onLoad", { ...query });
    fire(instance, "onShow");
    fire(instance, "onReady");
    return page;
  }

  function unload(page: PageInstance | undefined): void {
    if (page !== undefined) fire(page, "onUnload");
  }

  function navigation(api: string, run: (url: string) => string | undefined) {
    return (option: { url: string } & Callbacks): void => {
      navigations.push(`${api} ${option.url}`);
      const failure = run(option.url);
      const result = { errMsg: failure === undefined ? `${api}:ok` : `${api}:fail ${failure}` };
      if (failure === undefined) option.success?.(result);
      else option.fail?.(result);
      option.complete?.(result);
    };
  }

  function go(url: string, mode: "push" | "replace" | "relaunch"): string | undefined {
    const target = parseUrl(url);
    if (target === undefined) return `page "${url}" is not found`;
    if (mode === "push" && stack.length >= MAX_STACK) return "webview count limit exceed";
    if (mode === "push") {
      const top = stack.at(-1);
      if (top !== undefined) fire(top, "onHide");
    } else if (mode === "replace") {
      unload(stack.pop());
    } else {
      while (stack.length > 0) unload(stack.pop());
    }
    open(target.route, target.query);
    return undefined;
  }

  const impl: Record<string, unknown> = {
    login: (option: Parameters<Platform["login"]>[0]) => options.platform.login(option),
    request: (option: Parameters<Platform["request"]>[0]) => options.platform.request(option),
    requestPayment: (option: Parameters<Platform["requestPayment"]>[0]) => options.platform.requestPayment(option),
    getStorageSync: (key: string) => (storage.has(key) ? structuredClone(storage.get(key)) : ""),
    setStorageSync: (key: string, value: unknown) => void storage.set(key, structuredClone(value)),
    removeStorageSync: (key: string) => void storage.delete(key),
    navigateTo: navigation("navigateTo", (url) => go(url, "push")),
    redirectTo: navigation("redirectTo", (url) => go(url, "replace")),
    reLaunch: navigation("reLaunch", (url) => go(url, "relaunch")),
    showToast: (option: { title: string } & Callbacks) => {
      toasts.push(option.title);
      const result = { errMsg: "showToast:ok" };
      option.success?.(result);
      option.complete?.(result);
    },
    navigateBack: (option: { delta?: number } & Callbacks = {}) => {
      const delta = Math.max(1, option.delta ?? 1);
      for (let i = 0; i < delta && stack.length > 1; i += 1) unload(stack.pop());
      navigations.push(`navigateBack ${delta}`);
      const top = stack.at(-1);
      if (top !== undefined) fire(top, "onShow");
      const result = { errMsg: "navigateBack:ok" };
      option.success?.(result);
      option.complete?.(result);
    },
  };
  const wx = new Proxy(impl, {
    get(target, name) {
      if (typeof name === "symbol") return undefined;
      if (name in target) return target[name];
      throw new Error(`wx.${name} is not simulated by the test runtime`);
    },
  });

  function current(): PageInstance {
    const top = stack.at(-1);
    if (top === undefined) throw new Error("no page is open; call launch() first");
    return top;
  }

  function render(page: PageInstance = current()): WxmlElement {
    return rendererFor(dir, appJson.pages)(`${page.route}.wxml`, page.data);
  }

  return {
    wx,
    storage,
    navigations,
    toasts,
    errors,
    launch(url) {
      load(join(dir, "app.js"));
      if (app === undefined) throw new Error("app.js did not call App()");
      fire(app, "onLaunch", { path: appJson.pages[0], query: {}, scene: 1001 });
      fire(app, "onShow", { path: appJson.pages[0], query: {}, scene: 1001 });
      const failure = go(url ?? `/${appJson.pages[0] ?? ""}`, "relaunch");
      if (failure !== undefined) throw new Error(failure);
      return current();
    },
    current,
    stack: () => [...stack],
    render,
    text(id, page) {
      const root = render(page);
      const node = id === undefined ? root : findElement(root, id);
      return node === undefined ? undefined : textOf(node);
    },
    async tap(id, tapOptions = {}) {
      const page = tapOptions.page ?? current();
      const element = findElement(render(page), id);
      if (element === undefined)
        throw new Error(
          `no element #${id} on ${page.route}; it shows ${
            ids(render(page))
              .map((i) => `#${i}`)
              .join(", ") || "no ids"
          }`,
        );
      const attr = element.attr ?? {};
      if (attr.disabled === true) throw new Error(`#${id} on ${page.route} is disabled`);
      const handler = attr.bindtap ?? attr.catchtap;
      if (typeof handler !== "string") throw new Error(`#${id} on ${page.route} has no tap handler`);
      if (typeof page[handler] !== "function") throw new Error(`#${id} on ${page.route} binds ${handler}, which the page does not define`);
      const target = { id, dataset: datasetOf(attr) };
      const event = { type: "tap", timeStamp: Date.now(), target, currentTarget: target, detail: { x: 0, y: 0 }, mark: {} };
      const results: unknown[] = [];
      for (let i = 0; i < (tapOptions.times ?? 1); i += 1) {
        try {
          results.push((page[handler] as (e: unknown) => unknown).call(page, event));
        } catch (error) {
          errors.push(error);
        }
      }
      results.forEach(track);
      await Promise.allSettled(results);
    },
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    back(delta = 1) {
      (impl.navigateBack as (option: { delta: number }) => void)({ delta });
    },
    close() {
      while (stack.length > 0) unload(stack.pop());
    },
  };
}
