#!/usr/bin/env node
// Makes sure Electron's binary is installed before `npm start` runs it.
//
// package.json's allowScripts blocks the electron package's own postinstall (which downloads a ~100 MB binary), so
// `npm ci` works offline, behind a proxy that blocks the download, and for anyone who only wants `npm test` or web
// mode. The binary is fetched here instead, by the package's own installer (same version, same checksums, same
// cache and mirror settings: ELECTRON_MIRROR, electron_config_cache, HTTPS_PROXY), the first time it is needed.
//
// Exit 0 when the binary is there (or was just fetched), 1 with a plain reason when it could not be had.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const electronDir = path.join(root, "node_modules", "electron");

/** The installed binary's path, or null: path.txt names it, dist/version must be this package's version. */
export function installedElectron(dir = electronDir) {
  try {
    const version = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version;
    const distDir = process.env.ELECTRON_OVERRIDE_DIST_PATH || path.join(dir, "dist");
    if (!process.env.ELECTRON_OVERRIDE_DIST_PATH) {
      const installed = fs.readFileSync(path.join(distDir, "version"), "utf8").trim().replace(/^v/, "");
      if (installed !== version) return null;
    }
    const binary = path.join(distDir, fs.readFileSync(path.join(dir, "path.txt"), "utf8").trim());
    return fs.existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

/** Installs the binary into `dir` (node_modules/electron) when it is missing; returns the exit code. */
export function ensureElectron(dir = electronDir) {
  if (!fs.existsSync(path.join(dir, "install.js"))) {
    console.error("ensure-electron: node_modules/electron is missing: run `npm ci` first.");
    return 1;
  }
  if (installedElectron(dir)) return 0;
  const version = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version;
  console.log(`ensure-electron: downloading Electron ${version} for ${process.platform}-${process.arch} (once; npm ci leaves it out)…`);
  // The installer exits at once when this is set; a shell that exported it for `npm ci` must not stop `npm start`.
  const env = { ...process.env };
  delete env.ELECTRON_SKIP_BINARY_DOWNLOAD;
  const result = spawnSync(process.execPath, [path.join(dir, "install.js")], { cwd: dir, env, encoding: "utf8" });
  if (result.status === 0 && installedElectron(dir)) return 0;
  const output = `${result.stderr ?? ""}\n${result.stdout ?? ""}`;
  const reason =
    /getaddrinfo \w+ \S+|\b(?:ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET)\b[^\n]*|socket hang up/i.exec(output)?.[0] ??
    output.split("\n").map((l) => l.trim()).find((l) => l !== "" && !l.startsWith("at ")) ??
    `the installer exited with ${result.status ?? result.signal}`;
  console.error(
    [
      `ensure-electron: could not download Electron ${version} (${reason}).`,
      "  `npm start` needs Electron's binary; `npm test` and web mode (`npm run web`) do not.",
      "  Check the internet connection or proxy (HTTPS_PROXY), or point ELECTRON_MIRROR at a mirror, then run `npm start` again.",
    ].join("\n"),
  );
  return 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exit(ensureElectron());
