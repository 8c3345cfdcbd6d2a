import path from "node:path";
import { fileURLToPath } from "node:url";
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * The layers of the tree (ARCHITECTURE.md) and what each may import, in the style of VS Code's
 * `code-import-patterns`: a file belongs to the first layer whose prefix its path starts with; a relative import
 * must land in one of the layer's `allow` layers, and a package import must not be in its `denyPackages`.
 * Tests, build scripts and config files are in no layer and may import anything.
 */
const layers = [
  // Zod-free contract modules: the renderer and the sandboxed preload import them at run time, so they must stay
  // free of zod (and of every contract module that pulls it in).
  { name: "contracts (zod-free)", prefix: /^contracts\/(window|engine)\/(names|values|errors)\.ts$/, allow: ["contracts (zod-free)"], denyPackages: /.*/ },
  { name: "contracts", prefix: /^contracts\//, allow: ["contracts (zod-free)", "contracts"], denyPackages: /^(?!zod$)/ },
  // Dev-only code (synthetic models, bench suites, the llama.cpp peer bench): only the CLI and tests reach it.
  { name: "engine dev", prefix: /^engine\/dev\//, allow: ["contracts (zod-free)", "contracts", "engine", "engine dev"], denyPackages: ELECTRON() },
  { name: "engine", prefix: /^engine\//, allow: ["contracts (zod-free)", "contracts", "engine"], denyPackages: ELECTRON() },
  { name: "host", prefix: /^electron\/host\//, allow: ["contracts (zod-free)", "contracts", "engine", "host"], denyPackages: ELECTRON() },
  // The preload runs sandboxed on every page load: contracts as types, or zod-free modules, only.
  { name: "preload", prefix: /^electron\/(preload|app\/preload-api)\.ts$/, allow: ["contracts (zod-free)", "contracts:type", "preload"], denyPackages: /^(?!electron$)/ },
  { name: "shell", prefix: /^electron\//, allow: ["contracts (zod-free)", "contracts", "host", "shell", "preload"], denyPackages: null },
  { name: "cli", prefix: /^cli\//, allow: ["contracts (zod-free)", "contracts", "engine", "engine dev", "host", "cli"], denyPackages: ELECTRON() },
  // The renderer: its own files, the contracts as types, and the zod-free contract modules; no zod (it validates
  // nothing: the host does, once), no Node, no Electron.
  {
    name: "renderer",
    prefix: /^renderer\//,
    allow: ["contracts (zod-free)", "contracts:type", "renderer"],
    denyPackages: /^(electron|zod|node-llama-cpp|better-sqlite3|ws|node:.*|fs|path|os|child_process|crypto)(\/|$)/,
  },
];

function ELECTRON() {
  return /^electron(\/|$)/;
}

const layerOf = (file) => layers.find((layer) => layer.prefix.test(file));

/** The import-patterns rule: refuses an import that crosses a layer boundary the wrong way. */
const layersRule = {
  meta: {
    type: "problem",
    docs: { description: "Imports follow the process boundaries of ARCHITECTURE.md" },
    messages: {
      layer: "{{from}} must not import {{target}} ({{to}}): {{hint}}",
      typeOnly: "{{from}} may import {{target}} as types only (`import type`): a value would bundle zod and the schemas into it",
      package: "{{from}} must not import the package \"{{target}}\"",
    },
    schema: [],
  },
  create(context) {
    const file = path.relative(root, context.filename).replaceAll("\\", "/");
    const layer = layerOf(file);
    if (!layer) return {};
    const typeOnly = (node) =>
      node.importKind === "type" ||
      node.exportKind === "type" ||
      (node.specifiers?.length > 0 && node.specifiers.every((s) => s.importKind === "type" || s.exportKind === "type"));
    const check = (node, source, isTypeOnly) => {
      if (!source || typeof source.value !== "string") return;
      const spec = source.value;
      if (!spec.startsWith(".")) {
        if (layer.denyPackages?.test(spec) && !isTypeOnly) context.report({ node: source, messageId: "package", data: { from: layer.name, target: spec } });
        return;
      }
      const target = path.relative(root, path.resolve(path.dirname(context.filename), spec)).replaceAll("\\", "/").replace(/\.js$/, ".ts");
      if (target === "package.json") return; // the app's name and version, read by every layer
      const targetLayer = layerOf(target);
      const to = targetLayer?.name ?? "outside every layer";
      if (targetLayer && layer.allow.includes(targetLayer.name)) return;
      if (targetLayer && layer.allow.includes(`${targetLayer.name}:type`)) {
        if (!isTypeOnly) context.report({ node: source, messageId: "typeOnly", data: { from: layer.name, target: spec } });
        return;
      }
      context.report({ node: source, messageId: "layer", data: { from: layer.name, target: spec, to, hint: `${layer.name} may import ${layer.allow.join(", ")}` } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source, typeOnly(node)),
      ExportNamedDeclaration: (node) => check(node, node.source, typeOnly(node)),
      ExportAllDeclaration: (node) => check(node, node.source, node.exportKind === "type"),
      ImportExpression: (node) => check(node, node.source, false),
    };
  },
};

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", ".cache/", "test-results/", "release/", "test/build/lint-fixtures/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    plugins: { tandem: { rules: { layers: layersRule } } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
      "tandem/layers": "error",
    },
  },
);
