// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * Type-aware linting where it catches real bugs (a promise nobody awaits, a promise passed where
 * a callback must return void, `any` leaking into typed code). Layout is Prettier's job; `max-len`
 * only catches what Prettier cannot wrap: long strings, comments and template literals.
 */
export default tseslint.config(
  { ignores: ["node_modules/", "generated/", "dist/", ".data/", "coverage/", ".test-results/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "max-len": ["error", { code: 120, ignoreUrls: true, ignoreRegExpLiterals: true }],
    },
  },
  {
    files: ["server/**/*.ts"],
    // A longer function needs a reason: `// eslint-disable-next-line max-lines-per-function -- why`.
    rules: { "max-lines-per-function": ["warn", { max: 50, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ["**/*.js", "**/*.cjs"],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // CommonJS configuration files (dependency-cruiser reads .dependency-cruiser.cjs).
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { module: "writable", require: "readonly" } },
  },
  {
    // Configuration is read once, through loadConfig (server/config.ts); nothing else reads the environment.
    files: ["server/**/*.ts"],
    ignores: ["server/config.ts"],
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "read configuration through loadConfig (server/config.ts)" },
      ],
    },
  },
);
