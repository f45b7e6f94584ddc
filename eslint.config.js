// One lint configuration for the whole workspace; each package runs `eslint .` and finds this file.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

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
