// One lint configuration for the whole workspace; each package runs `eslint .` and finds this file.
import { builtinModules } from "node:module";
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

// The files that may read process.env: the API's env module validates its configuration once; the entry points, CLIs and
// scripts below hand the environment to child processes or read their own flags; test support starts servers and child
// processes with an environment. Everything else takes its configuration as a typed argument.
const ENV_MODULES = [
  "apps/api/src/env.ts",
  "apps/dev/src/start.ts",
  "apps/bench/src/servers/api-process.ts",
  "apps/bench/src/servers/postgres.ts",
  // The private test kit starts PostgreSQL for tests and hands its URL to them.
  "packages/test-kit/src/**",
  "scripts/**",
  "apps/*/scripts/**",
  // Test support and the suites beside it live in each package's test/ folder.
  "apps/*/test/**",
  "packages/*/test/**",
];
const ENV_MESSAGE = "Read the environment in an env module (apps/api/src/env.ts) or an entry point listed in eslint.config.js, and pass the values in.";
// `import { env } from "node:process"` is the same read as process.env.
const ENV_IMPORTS = ["process", "node:process"].map((name) => ({ name, importNames: ["env"], message: ENV_MESSAGE }));
// packages/* are libraries the apps build on; an import the other way round would make a package depend on an app.
const APP_IMPORTS = [
  {
    group: ["@pay/api", "@pay/api/*", "@pay/dev", "@pay/dev/*", "@pay/miniprogram", "@pay/miniprogram/*", "@pay/bench", "@pay/bench/*"],
    message: "packages/* never import an app (apps/*): move what both need into a package.",
  },
  { regex: "^(\\.\\./)+apps(/|$)", message: "packages/* never import an app (apps/*) by a relative path: move what both need into a package." },
];
// The same for import(), which no-restricted-imports does not see (esquery regexes cannot hold a "/": \u002F is one).
const APP_DYNAMIC_IMPORT = {
  selector: "ImportExpression[source.value=/^(@pay\\u002F(api|dev|miniprogram|bench)(\\u002F|$)|(\\.\\.\\u002F)+apps(\\u002F|$))/]",
  message: "packages/* never import an app (apps/*): move what both need into a package.",
};
// @pay/core/contract and @pay/core/money are bundled into the mini-program, which has no Node built-ins.
const BUILTIN_MESSAGE = "@pay/core/contract and @pay/core/money run in the WeChat mini-program: no Node built-ins.";
const BUILTIN_IMPORTS = {
  paths: builtinModules.filter((name) => !name.startsWith("node:")).map((name) => ({ name, message: BUILTIN_MESSAGE })),
  patterns: [{ group: ["node:*"], message: BUILTIN_MESSAGE }],
};

export default tseslint.config(
  {
    ignores: ["**/dist/**", "**/node_modules/**", "**/.turbo/**", "**/.reports/**", "**/coverage/**", "**/build/**"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: {
          allowDefaultProject: ["*.js", "*.mjs", "*.mts", "scripts/*.mjs"],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "separate-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "@typescript-eslint/only-throw-error": "error",
      "no-console": "off",
      eqeqeq: ["error", "always"],
    },
  },
  {
    // A condition the types say is always true or always false is dead code or a type that lies; fix the type (an untrusted
    // value is `unknown` until parsed) rather than keep a check nobody can reach.
    files: ["**/*.ts", "**/*.mts"],
    rules: {
      "@typescript-eslint/no-unnecessary-condition": "error",
    },
  },
  {
    // process.env is read only in the env modules (ENV_MODULES above).
    files: ["**/*.ts", "**/*.mts", "**/*.js", "**/*.mjs"],
    ignores: ENV_MODULES,
    rules: {
      "no-restricted-properties": ["error", { object: "process", property: "env", message: ENV_MESSAGE }],
      "no-restricted-imports": ["error", { paths: ENV_IMPORTS }],
    },
  },
  // Layer fences. A later block's no-restricted-imports replaces an earlier one's options, so each block repeats the
  // restrictions of the blocks before it that also match its files.
  {
    files: ["packages/**"],
    ignores: ENV_MODULES,
    rules: {
      "no-restricted-imports": ["error", { paths: ENV_IMPORTS, patterns: APP_IMPORTS }],
      "no-restricted-syntax": ["error", APP_DYNAMIC_IMPORT],
    },
  },
  {
    files: ENV_MODULES.map((pattern) => ["packages/**", pattern]),
    rules: {
      "no-restricted-imports": ["error", { patterns: APP_IMPORTS }],
      "no-restricted-syntax": ["error", APP_DYNAMIC_IMPORT],
    },
  },
  {
    files: ["packages/core/src/contract/**", "packages/core/src/money/**"],
    // Their tests run in Node and are not bundled.
    ignores: ["**/*.test.ts", "**/*.test-d.ts"],
    rules: {
      "no-restricted-imports": ["error", { paths: [...ENV_IMPORTS, ...BUILTIN_IMPORTS.paths], patterns: [...APP_IMPORTS, ...BUILTIN_IMPORTS.patterns] }],
    },
  },
  {
    // The console runs in the browser: browser globals, the same dead-condition check for .tsx, and no Node built-ins in what is bundled.
    files: ["apps/console/src/**/*.ts", "apps/console/src/**/*.tsx"],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      "@typescript-eslint/no-unnecessary-condition": "error",
    },
  },
  {
    // What the browser runs (its unit tests run in Node and are not bundled).
    files: ["apps/console/src/**/*.ts", "apps/console/src/**/*.tsx"],
    ignores: ["**/*.test.ts", "**/*.test.tsx"],
    rules: {
      "no-restricted-imports": ["error", { paths: [...ENV_IMPORTS, ...BUILTIN_IMPORTS.paths], patterns: BUILTIN_IMPORTS.patterns }],
    },
  },
  {
    // Log redaction runs as pino formatters; a bare `.child(bindings)` resets the bindings formatter,
    // so children are made with childLogger (apps/api/src/logging.ts), which keeps it.
    files: ["apps/api/src/**/*.ts"],
    ignores: ["apps/api/src/logging.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.property.name='child'][arguments.length=1]",
          message: "Use childLogger(parent, bindings) from logging.ts: a bare .child(bindings) skips the redaction of its bindings.",
        },
      ],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
  },
);
