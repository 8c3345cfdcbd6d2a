/**
 * Runs electron-builder for real (`--linux dir`, the unpacked app every Linux installer is made from) with a
 * stand-in Electron binary: Electron's own cannot be downloaded on this project's machines, but electron-builder
 * only copies it and flips the fuse wire inside it, which a stand-in carrying the same sentinel and wire shows just
 * as well. Native modules are not rebuilt here (that needs Electron's headers from the network); the release
 * workflow does that on GitHub's runners. Checks what lands in app.asar and app.asar.unpacked, and the fuses.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builderDependency, root } from "./builder-kit.js";

const SENTINEL = "dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX";
const isLinuxX64 = process.platform === "linux" && process.arch === "x64";
if (!isLinuxX64) console.warn("Linux packaging test skipped: it packages for linux-x64 with this machine's node_modules");

describe.skipIf(!isLinuxX64)("electron-builder --linux dir (stand-in Electron)", () => {
  let work: string;
  let appDir: string;
  let asarFiles: string[];

  beforeAll(() => {
    for (const file of ["dist/electron/main.js", "dist/engine/main.js", "dist/renderer/index.html"]) {
      if (!fs.existsSync(path.join(root, file))) throw new Error(`${file} is missing: run \`npm run build\` first`);
    }
    work = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-package-"));
    const electronDist = path.join(work, "electron");
    fs.mkdirSync(electronDist);
    // Fuse wire v1, 9 fuses, Electron's defaults: RunAsNode on, cookie encryption off, NODE_OPTIONS on, inspect
    // on, asar integrity off, only-asar off, V8 snapshot off, file privileges on, WASM trap handlers on.
    const wire = Buffer.concat([Buffer.from("#!/bin/sh\n"), Buffer.alloc(32), Buffer.from(SENTINEL), Buffer.from([1, 9]), Buffer.from("101100011"), Buffer.alloc(32)]);
    fs.writeFileSync(path.join(electronDist, "electron"), wire, { mode: 0o755 });
    fs.writeFileSync(path.join(electronDist, "version"), "stand-in");
    const output = path.join(work, "release");
    const cli = path.join(root, "node_modules", "electron-builder", "cli.js");
    const result = spawnSync(
      process.execPath,
      [cli, "--linux", "dir", "--x64", "--publish", "never", "-c.npmRebuild=false", `-c.electronDist=${electronDist}`, `-c.directories.output=${output}`],
      { cwd: root, encoding: "utf8", env: { ...process.env, ELECTRON_BUILDER_CACHE: path.join(work, "cache") }, timeout: 600_000 },
    );
    if (result.status !== 0) throw new Error(`electron-builder failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
    appDir = path.join(output, "linux-unpacked");
    const asar = builderDependency<{ listPackage(archive: string, options: object): string[] }>("@electron/asar");
    asarFiles = asar.listPackage(path.join(appDir, "resources", "app.asar"), {}).map((f) => f.replaceAll("\\", "/"));
  }, 600_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("names the executable and flips every configured fuse in it", async () => {
    const fuses = builderDependency<{ getCurrentFuseWire(app: string): Promise<Record<string, number>> }>("@electron/fuses");
    const wire = await fuses.getCurrentFuseWire(path.join(appDir, "tandem"));
    const [DISABLE, ENABLE] = [48, 49];
    // Wire order: RunAsNode, EnableCookieEncryption, EnableNodeOptionsEnvironmentVariable,
    // EnableNodeCliInspectArguments, EnableEmbeddedAsarIntegrityValidation, OnlyLoadAppFromAsar,
    // LoadBrowserProcessSpecificV8Snapshot (left at its default), GrantFileProtocolExtraPrivileges.
    expect([wire[0], wire[1], wire[2], wire[3], wire[4], wire[5], wire[6], wire[7]]).toEqual([DISABLE, ENABLE, DISABLE, DISABLE, ENABLE, ENABLE, DISABLE, DISABLE]);
    // The ninth fuse (WASM trap handlers) is not configured and keeps the binary's value.
    expect(wire[8]).toBe(ENABLE);
  });

  it("packs the bundles and renderer into app.asar, and no sources, tests or maps", () => {
    for (const file of ["/package.json", "/dist/electron/main.js", "/dist/electron/preload.cjs", "/dist/engine/main.js", "/dist/renderer/index.html", "/assets/icons/512x512.png"]) {
      expect(asarFiles, file).toContain(file);
    }
    const ownFiles = asarFiles.filter((f) => !f.startsWith("/node_modules/"));
    expect(ownFiles.filter((f) => /\.(ts|tsx|map)$/.test(f) || /^\/(test|renderer|electron|\.github)\//.test(f))).toEqual([]);
    expect(ownFiles).not.toContain("/dist/web.js");
    expect(ownFiles).not.toContain("/dist/cli.js");
  });

  it("ships only linux-x64 llama.cpp binaries, unpacked, with node-llama-cpp's JavaScript left in the archive", () => {
    const unpacked = path.join(appDir, "resources", "app.asar.unpacked", "node_modules");
    const packages = fs.readdirSync(path.join(unpacked, "@node-llama-cpp")).sort();
    expect(packages.length).toBeGreaterThan(0);
    for (const name of packages) expect(name.startsWith("linux-x64"), name).toBe(true);
    expect(asarFiles.filter((f) => /^\/node_modules\/@node-llama-cpp\/(?!linux-x64)/.test(f))).toEqual([]);
    expect(fs.existsSync(path.join(unpacked, "@node-llama-cpp", "linux-x64", "bins", "linux-x64", "llama-addon.node"))).toBe(true);
    expect(asarFiles).toContain("/node_modules/node-llama-cpp/dist/index.js");
    expect(fs.existsSync(path.join(unpacked, "node-llama-cpp", "dist"))).toBe(false);
    expect(asarFiles).not.toContain("/node_modules/node-llama-cpp/llama/gitRelease.bundle");
  });

  it("unpacks better-sqlite3's addon and keeps the engine entry inside the archive", () => {
    const unpacked = path.join(appDir, "resources", "app.asar.unpacked");
    expect(fs.existsSync(path.join(unpacked, "node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node"))).toBe(true);
    expect(fs.existsSync(path.join(unpacked, "dist"))).toBe(false);
  });
});
