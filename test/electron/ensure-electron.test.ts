/**
 * `npm start`'s first step: npm ci no longer runs electron's postinstall (allowScripts), so the binary is fetched
 * when the app is started. Exercised on a stand-in node_modules/electron whose install.js fails like an offline
 * machine does, or installs a binary, as the real one would.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
// @ts-expect-error: a plain .mjs script (it runs before anything is built), without type declarations
import { ensureElectron, installedElectron } from "../../electron/ensure-electron.mjs";

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function fakeElectronPackage(installScript: string): string {
  const dir = mkdtempSync(join(tmpdir(), "tandem-electron-"));
  dirs.push(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "electron", version: "39.8.10" }));
  writeFileSync(join(dir, "install.js"), installScript);
  return dir;
}

const INSTALLS = `
const fs = require("fs"), path = require("path");
if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) process.exit(0);
fs.mkdirSync(path.join(__dirname, "dist"), { recursive: true });
fs.writeFileSync(path.join(__dirname, "dist", "electron"), "binary");
fs.writeFileSync(path.join(__dirname, "dist", "version"), "v39.8.10");
fs.writeFileSync(path.join(__dirname, "path.txt"), "electron");
`;

describe("ensure-electron", () => {
  it("fetches the binary with the package's installer, even when ELECTRON_SKIP_BINARY_DOWNLOAD is exported", () => {
    const dir = fakeElectronPackage(INSTALLS);
    vi.spyOn(console, "log").mockImplementation(() => {});
    vi.stubEnv("ELECTRON_SKIP_BINARY_DOWNLOAD", "1");
    expect(installedElectron(dir)).toBeNull();
    expect(ensureElectron(dir)).toBe(0);
    expect(installedElectron(dir)).toBe(join(dir, "dist", "electron"));
    vi.unstubAllEnvs();
  });

  it("does nothing when the right version is installed, and re-fetches a binary of another version", () => {
    const dir = fakeElectronPackage(`process.exit(3)`);
    mkdirSync(join(dir, "dist"));
    writeFileSync(join(dir, "dist", "electron"), "binary");
    writeFileSync(join(dir, "dist", "version"), "39.8.10");
    writeFileSync(join(dir, "path.txt"), "electron");
    expect(ensureElectron(dir)).toBe(0);

    writeFileSync(join(dir, "dist", "version"), "38.0.0");
    vi.spyOn(console, "log").mockImplementation(() => {});
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(ensureElectron(dir)).toBe(1);
    expect(errors.mock.calls.join("\n")).toMatch(/could not download Electron 39\.8\.10/);
  });

  it("says plainly why a download failed, and that tests and web mode don't need it", () => {
    const dir = fakeElectronPackage(`console.error("RequestError: getaddrinfo ENOTFOUND github.com\\n    at ClientRequest.<anonymous> (x.js:1:1)"); process.exit(1);`);
    vi.spyOn(console, "log").mockImplementation(() => {});
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(ensureElectron(dir)).toBe(1);
    const message = errors.mock.calls.join("\n");
    expect(message).toMatch(/could not download Electron 39\.8\.10 \(getaddrinfo ENOTFOUND github\.com\)/);
    expect(message).toMatch(/`npm test` and web mode/);
    expect(message).not.toMatch(/ClientRequest/);
  });

  it("npm ci never runs electron's download: allowScripts blocks it and npm start fetches it first", () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8"));
    expect(pkg.allowScripts.electron).toBe(false);
    expect(pkg.scripts.start).toMatch(/^node electron\/ensure-electron\.mjs && /);
  });
});
