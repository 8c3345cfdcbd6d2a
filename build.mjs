// Builds the Node-side bundles (engine, host entry points, Electron main/preload, CLI) with esbuild.
// The renderer is built by Vite (vite.config.ts). Usage: node build.mjs [--quiet]
import { build } from "esbuild";

const quiet = process.argv.includes("--quiet");
const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  logLevel: quiet ? "error" : "warning",
  // Dependencies stay in node_modules: native addons (node-llama-cpp, better-sqlite3) must load from there.
  packages: "external",
};

await Promise.all([
  build({ ...common, format: "esm", entryPoints: ["engine/main.ts"], outfile: "dist/engine/main.js" }),
  build({ ...common, format: "esm", entryPoints: ["cli/main.ts"], outfile: "dist/cli.js", banner: { js: "#!/usr/bin/env node" } }),
  build({ ...common, format: "esm", entryPoints: ["electron/host/web/main.ts"], outfile: "dist/web.js" }),
  build({ ...common, format: "esm", entryPoints: ["electron/main.ts"], outfile: "dist/electron/main.js", external: ["electron"] }),
  // A sandboxed preload can only require "electron" and a few built-ins: bundle everything else into one CJS file.
  build({
    ...common,
    packages: undefined,
    format: "cjs",
    entryPoints: ["electron/preload.ts"],
    outfile: "dist/electron/preload.cjs",
    external: ["electron"],
  }),
]);
