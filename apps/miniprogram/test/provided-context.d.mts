// What test/global-setup.ts hands the tests (through provide/inject). An .mts file, because this
// package is CommonJS and vitest's types resolve for ES modules only.
export {};

declare module "vitest" {
  export interface ProvidedContext {
    /** A fresh build of the mini-program, made with scripts/build.mjs for this run. */
    buildDir: string;
    /** The API base URL that build was made for. */
    buildApiBaseUrl: string;
  }
}
