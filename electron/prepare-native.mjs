#!/usr/bin/env node
// Builds better-sqlite3 for Electron's ABI into .cache/electron-native/ (run by `npm start` before `electron .`).
//
// better-sqlite3 is a V8 addon: node_modules holds the build for Node (tests, web mode), which Electron cannot
// load. Rather than rebuilding node_modules in place (and breaking Node), build a private copy for Electron and
// hand its path to the host (electron/app/native.ts reads the same files; keep the names and stamp in sync).
//
// Order: skip when no Electron binary is installed (nothing could use the build); skip when the cached build's
// stamp matches; else try a prebuilt binary (prebuild-install), then compile with node-gyp against Electron's
// headers. Exit 0 when there is nothing to do or the build is ready, 1 when it failed.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(root, "package.json"));
const cacheDir = path.join(root, ".cache", "electron-native");
const binaryFile = path.join(cacheDir, "better_sqlite3.node");
const stampFile = path.join(cacheDir, "better_sqlite3.json");
const say = (message) => console.log(`prepare-native: ${message}`);

function electronBinary() {
  const electronDir = path.join(root, "node_modules", "electron");
  const pathFile = path.join(electronDir, "path.txt");
  if (!fs.existsSync(pathFile)) return null;
  const relative = fs.readFileSync(pathFile, "utf8").trim();
  const distDir = process.env.ELECTRON_OVERRIDE_DIST_PATH || path.join(electronDir, "dist");
  const binary = path.join(distDir, relative);
  return fs.existsSync(binary) ? binary : null;
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

function run(command, args, cwd) {
  say(`${path.basename(command)} ${args.join(" ")}`);
  const result = spawnSync(command, args, { cwd, stdio: "inherit", env: process.env });
  return result.status === 0;
}

/** node-gyp: npm ships a copy; prefer a project-local one, then npm's, then whatever npx can find offline. */
function nodeGypCommand() {
  const npmDirs = [
    process.env.npm_execpath ? path.resolve(path.dirname(process.env.npm_execpath), "..") : null,
    path.resolve(path.dirname(process.execPath), "..", "lib", "node_modules", "npm"),
    path.resolve(path.dirname(process.execPath), "node_modules", "npm"),
  ].filter(Boolean);
  for (const paths of [[root], ...npmDirs.map((dir) => [dir])]) {
    try {
      return { command: process.execPath, args: [require.resolve("node-gyp/bin/node-gyp.js", { paths })] };
    } catch {
      // Not there; try the next place.
    }
  }
  return { command: process.platform === "win32" ? "npx.cmd" : "npx", args: ["--no-install", "node-gyp"] };
}

function main() {
  if (!electronBinary()) {
    say("no Electron binary in node_modules/electron (its download is blocked or was skipped); nothing to build.");
    return 0;
  }
  const electronVersion = readJson(path.join(root, "node_modules", "electron", "package.json"))?.version;
  const sqliteDir = path.dirname(require.resolve("better-sqlite3/package.json"));
  const sqliteVersion = readJson(path.join(sqliteDir, "package.json"))?.version;
  if (!electronVersion || !sqliteVersion) {
    console.error("prepare-native: cannot read the electron or better-sqlite3 version from node_modules.");
    return 1;
  }
  const stamp = { electron: electronVersion, betterSqlite3: sqliteVersion, platform: process.platform, arch: process.arch };
  const current = readJson(stampFile);
  if (fs.existsSync(binaryFile) && current && Object.entries(stamp).every(([key, value]) => current[key] === value)) {
    say(`better-sqlite3 ${sqliteVersion} for Electron ${electronVersion} is up to date.`);
    return 0;
  }

  // A private copy: building in node_modules would replace the Node build the tests and web mode need.
  const work = path.join(cacheDir, "better-sqlite3");
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(cacheDir, { recursive: true });
  fs.cpSync(sqliteDir, work, { recursive: true, filter: (source) => path.relative(sqliteDir, source).split(path.sep)[0] !== "build" });
  const built = path.join(work, "build", "Release", "better_sqlite3.node");

  let ok = false;
  try {
    const prebuild = require.resolve("prebuild-install/bin.js", { paths: [sqliteDir] });
    ok = run(process.execPath, [prebuild, "--runtime", "electron", "--target", electronVersion, "--arch", process.arch, "--platform", process.platform], work);
  } catch {
    say("prebuild-install not found; compiling instead.");
  }
  if (!ok || !fs.existsSync(built)) {
    const gyp = nodeGypCommand();
    ok = run(
      gyp.command,
      [...gyp.args, "rebuild", "--release", `--target=${electronVersion}`, `--arch=${process.arch}`, "--dist-url=https://electronjs.org/headers", "--runtime=electron"],
      work,
    );
  }
  if (!ok || !fs.existsSync(built)) {
    console.error(
      `prepare-native: could not build better-sqlite3 ${sqliteVersion} for Electron ${electronVersion}. ` +
        "It needs network access (a prebuilt binary, or Electron's headers plus a C++ toolchain for node-gyp).",
    );
    return 1;
  }

  // Old stamp gone, binary replaced atomically, new stamp last: a stamp only ever describes the binary beside it.
  fs.rmSync(stampFile, { force: true });
  const temp = `${binaryFile}.${process.pid}.tmp`;
  fs.copyFileSync(built, temp);
  fs.renameSync(temp, binaryFile);
  fs.writeFileSync(stampFile, `${JSON.stringify(stamp, null, 2)}\n`);
  fs.rmSync(work, { recursive: true, force: true });
  say(`built better-sqlite3 ${sqliteVersion} for Electron ${electronVersion} → ${path.relative(root, binaryFile)}`);
  return 0;
}

process.exitCode = main();
