import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", ".cache/", "test-results/", "release/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
    },
  },
  {
    // The host layer must run in plain Node: no Electron import outside electron/main.ts and electron/preload.ts.
    files: ["electron/host/**/*.ts", "engine/**/*.ts", "renderer/**/*.{ts,tsx}"],
    rules: { "no-restricted-imports": ["error", { paths: ["electron"] }] },
  },
);
