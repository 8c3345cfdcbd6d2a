/**
 * electron-builder.yml against electron-builder's own schema and matcher, and against the node_modules that is
 * really installed: targets per platform, icons, fuses, what goes into the archive, what is unpacked, and which
 * llama.cpp binaries each installer carries.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadBuilderConfig, matcherFor, nodeModulesFilter, root, validateBuilderConfig, walk, type BuilderOs } from "./builder-kit.js";

const config = loadBuilderConfig();
const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(root, file), "utf8")) as Record<string, unknown>;
const llamaPackages = Object.keys(readJson("node_modules/node-llama-cpp/package.json").optionalDependencies as Record<string, string>)
  .filter((name) => name.startsWith("@node-llama-cpp/"))
  .map((name) => name.slice("@node-llama-cpp/".length));
const installedLlamaPackages = fs.readdirSync(path.join(root, "node_modules/@node-llama-cpp"));

/** Every (platform, arch) an installer could be built for; the release workflow builds the first of each. */
const BUILDS: [BuilderOs, string][] = [
  ["linux", "x64"],
  ["linux", "arm64"],
  ["win", "x64"],
  ["win", "arm64"],
  ["mac", "arm64"],
  ["mac", "x64"],
];

describe("electron-builder.yml", () => {
  it("passes electron-builder's own schema validation (and the check is real: a typo fails it)", async () => {
    await expect(validateBuilderConfig(config)).resolves.toBeUndefined();
    await expect(validateBuilderConfig({ ...config, asarUnpak: [] })).rejects.toThrow(/asarUnpak/);
    await expect(validateBuilderConfig({ ...config, electronFuses: { ...config.electronFuses, runAsNodes: false } })).rejects.toThrow(/electronFuses/);
  });

  it("pins an electron-builder that has the built-in electronFuses block", () => {
    const pinned = (readJson("package.json").devDependencies as Record<string, string>)["electron-builder"];
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(Number(pinned.split(".")[0])).toBeGreaterThanOrEqual(25);
    expect(readJson("node_modules/electron-builder/package.json").version).toBe(pinned);
  });

  it("names the app and builds AppImage + deb, NSIS, and a DMG for each Mac architecture", () => {
    expect(config.appId).toMatch(/^[a-z0-9]+(\.[a-z0-9-]+){2,}$/);
    expect(config.productName).toBe(readJson("package.json").productName);
    expect(config.linux.target).toEqual(["AppImage", "deb"]);
    expect(config.linux.maintainer).toBeTruthy(); // deb refuses to build without one (package.json has no author)
    expect(config.win.target).toEqual(["nsis"]);
    expect(config.mac.target).toEqual([{ target: "dmg", arch: ["arm64", "x64"] }]);
    expect(config.directories.output).toBe("release");
    expect(fs.readFileSync(path.join(root, ".gitignore"), "utf8").split("\n")).toContain("release/");
  });

  it("points each platform at an icon that exists in the format it needs", () => {
    expect(config.directories.buildResources).toBe("assets");
    expect(path.extname(config.win.icon)).toBe(".ico");
    expect(path.extname(config.mac.icon)).toBe(".icns");
    for (const icon of [config.win.icon, config.mac.icon]) expect(fs.statSync(path.join(root, icon)).isFile()).toBe(true);
    // Linux takes a folder of <n>x<n>.png files (checked in icons.test.ts).
    expect(fs.readdirSync(path.join(root, config.linux.icon))).toEqual(expect.arrayContaining(["16x16.png", "256x256.png", "512x512.png"]));
  });

  it("flips the fuses: no run-as-node, NODE_OPTIONS or inspect flags; cookies encrypted; app only from an integrity-checked asar; no extra file: privileges", () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
      resetAdHocDarwinSignature: true,
    });
    expect(config.asar).toBe(true);
  });

  it("rebuilds native modules for Electron's ABI at package time", () => {
    expect(config.npmRebuild).toBe(true);
    expect(config.buildDependenciesFromSource).toBe(false); // prebuilt Electron binaries first, compile as fallback
    expect(config.nativeRebuilder).toBe("sequential"); // @electron/rebuild
  });
});

describe("files: what goes into app.asar", () => {
  const included = matcherFor(config.files, "linux", "x64");

  it("carries the built bundles and the renderer, package.json and the benchmark prompts", () => {
    for (const file of ["dist/electron/main.js", "dist/electron/preload.cjs", "dist/engine/main.js", "dist/renderer/index.html", "package.json"]) {
      expect(included(file), file).toBe(true);
    }
    for (const file of walk("dist/renderer")) if (!file.endsWith(".map")) expect(included(file), file).toBe(true);
    for (const file of walk("engine/bench/prompts")) expect(included(file), file).toBe(true);
    expect(included("assets/icons/512x512.png")).toBe(true);
  });

  it("matches main's entry in package.json", () => {
    expect(included(String(readJson("package.json").main))).toBe(true);
  });

  it("leaves out sources, tests, tools, source maps and the web-mode/CLI bundles", () => {
    for (const file of [
      "electron/main.ts",
      "electron/app/security.ts",
      "engine/engine.ts",
      "engine/dev/synthetic/make-model.ts",
      "engine/dev/bench/suite.ts",
      "engine/dev/bench/results.json",
      "engine/dev/bench/peer/peer-bench.ts",
      "cli/main.ts",
      "contracts/window/window-api.ts",
      "renderer/src/main.tsx",
      "test/build/electron-builder.test.ts",
      "build.mjs",
      "vite.config.ts",
      "README.md",
      "assets/icon.png",
      "assets/screenshots/chat-light.png",
      "dist/electron/main.js.map",
      "dist/web.js",
      "dist/cli.js",
      ".github/workflows/release.yml",
    ]) {
      expect(included(file), file).toBe(false);
    }
  });
});

describe("asarUnpack: native binaries outside the archive", () => {
  const unpacked = matcherFor(config.asarUnpack, "linux", "x64");

  it("matches every file of every installed @node-llama-cpp package (the addons and the libraries beside them)", () => {
    expect(installedLlamaPackages.length).toBeGreaterThan(0);
    for (const name of installedLlamaPackages) {
      const files = walk(`node_modules/@node-llama-cpp/${name}`);
      expect(files.some((f) => /\.(node|so|dll|dylib)(\.|$)/.test(f)), `${name} holds native binaries`).toBe(true);
      for (const file of files) expect(unpacked(file), file).toBe(true);
    }
  });

  it("matches node-llama-cpp's own bins folder and local builds", () => {
    for (const file of walk("node_modules/node-llama-cpp/bins")) expect(unpacked(file), file).toBe(true);
    expect(unpacked("node_modules/node-llama-cpp/bins/linux-x64/llama-addon.node")).toBe(true);
    expect(unpacked("node_modules/node-llama-cpp/llama/localBuilds/linux-x64/Release/llama-addon.node")).toBe(true);
  });

  it("matches better-sqlite3's addon", () => {
    const addons = walk("node_modules/better-sqlite3/build/Release").filter((f) => f.endsWith("/better_sqlite3.node"));
    expect(addons).toContain("node_modules/better-sqlite3/build/Release/better_sqlite3.node");
    expect(unpacked("node_modules/better-sqlite3/build/Release/better_sqlite3.node")).toBe(true);
  });

  it("keeps the JavaScript in the archive (the engine entry included: utilityProcess forks it from app.asar)", () => {
    for (const file of ["dist/engine/main.js", "dist/electron/main.js", "node_modules/node-llama-cpp/dist/index.js", "node_modules/better-sqlite3/lib/index.js"]) {
      expect(unpacked(file), file).toBe(false);
    }
  });
});

describe("per-platform llama.cpp binaries", () => {
  it("knows every package node-llama-cpp can install", () => {
    expect(llamaPackages).toEqual(expect.arrayContaining(["linux-x64", "linux-x64-cuda", "linux-arm64", "win-x64", "win-x64-cuda", "mac-arm64-metal", "mac-x64"]));
  });

  for (const [os, arch] of BUILDS) {
    it(`${os} ${arch}: keeps exactly that platform's packages`, () => {
      const keep = nodeModulesFilter(config, os, arch);
      const kept = llamaPackages.filter((name) => keep(`node_modules/@node-llama-cpp/${name}`, true) && keep(`node_modules/@node-llama-cpp/${name}/package.json`));
      // <os>-<arch>[-variant], os and arch being electron-builder's names, which node-llama-cpp's package names use.
      const expected = llamaPackages.filter((name) => {
        const [packageOs, packageArch] = name.split("-");
        return packageOs === os && packageArch === arch;
      });
      expect(expected.length, "node-llama-cpp has binaries for this platform").toBeGreaterThan(0);
      expect(kept.sort()).toEqual(expected.sort());
      // CUDA exists (and is shipped) only for Linux and Windows x64.
      expect(kept.some((name) => name.includes("cuda"))).toBe(os !== "mac" && arch === "x64");
      // node-llama-cpp's own bins folder (older layouts) and local builds follow the same rule.
      expect(keep(`node_modules/node-llama-cpp/bins/${os}-${arch}/llama-addon.node`)).toBe(true);
      const other = os === "linux" ? "win" : "linux";
      expect(keep(`node_modules/node-llama-cpp/bins/${other}-${arch}/llama-addon.node`)).toBe(false);
      expect(keep(`node_modules/node-llama-cpp/llama/localBuilds/${other}-${arch}/Release/llama-addon.node`)).toBe(false);
    });
  }

  it("applies to the real files installed here: every binary of another platform is dropped, ours kept", () => {
    const keep = nodeModulesFilter(config, "linux", "x64");
    for (const name of installedLlamaPackages) {
      const ours = name.startsWith("linux-x64");
      for (const file of walk(`node_modules/@node-llama-cpp/${name}`)) expect(keep(file), file).toBe(ours);
    }
  });

  it("leaves everything else in node_modules alone (except sources that are never loaded)", () => {
    const keep = nodeModulesFilter(config, "linux", "x64");
    for (const file of ["node_modules/node-llama-cpp/dist/index.js", "node_modules/node-llama-cpp/package.json", "node_modules/node-llama-cpp/llama/grammars/json.gbnf", "node_modules/better-sqlite3/build/Release/better_sqlite3.node", "node_modules/better-sqlite3/lib/index.js", "node_modules/react/index.js"]) {
      expect(keep(file), file).toBe(true);
    }
    for (const file of ["node_modules/node-llama-cpp/llama/gitRelease.bundle", "node_modules/better-sqlite3/deps/sqlite3/sqlite3.c", "node_modules/better-sqlite3/src/better_sqlite3.cpp"]) {
      expect(keep(file), file).toBe(false);
    }
  });
});
