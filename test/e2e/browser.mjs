#!/usr/bin/env node
// The browser the E2E tests drive (web mode through playwright-core), and `npm test`'s first step to get one.
//
// Found, in this order: $CHROMIUM_PATH; a system Chromium or Chrome; the Chromium that Playwright manages
// (~/.cache/ms-playwright, `npx playwright-core install chromium`). When there is none, `npm test` gets one the
// ecosystem's usual way: Playwright's own download first; where that can't be reached (an offline or firewalled
// machine) and we are root on Debian or Ubuntu, Debian's `chromium` package through apt-get. Otherwise it stops
// with what to install. TANDEM_BROWSER_INSTALL=0 turns both installs off.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

const SYSTEM_BROWSERS = {
  linux: ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable", "/snap/bin/chromium"],
  darwin: ["/Applications/Chromium.app/Contents/MacOS/Chromium", "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"],
  win32: [
    `${process.env.PROGRAMFILES ?? "C:\\Program Files"}\\Google\\Chrome\\Application\\chrome.exe`,
    `${process.env["PROGRAMFILES(X86)"] ?? "C:\\Program Files (x86)"}\\Google\\Chrome\\Application\\chrome.exe`,
  ],
};

/** Playwright's managed Chromium, when it has been downloaded. */
function playwrightChromium() {
  try {
    const managed = require("playwright-core").chromium.executablePath();
    return managed && fs.existsSync(managed) ? managed : null;
  } catch {
    return null;
  }
}

/** The browser to drive, or null; `source` says where it came from (for messages). */
export function findBrowser(env = process.env) {
  if (env.CHROMIUM_PATH) {
    return fs.existsSync(env.CHROMIUM_PATH) ? { path: env.CHROMIUM_PATH, source: "CHROMIUM_PATH" } : null;
  }
  const system = (SYSTEM_BROWSERS[process.platform] ?? []).find((p) => fs.existsSync(p));
  if (system) return { path: system, source: "system" };
  const managed = playwrightChromium();
  return managed ? { path: managed, source: "playwright" } : null;
}

const say = (message) => console.log(`ensure-browser: ${message}`);

/** Runs a command quietly; on failure prints its last lines, or the network error in it when there is one. */
function run(command, args) {
  say(`${path.basename(command)} ${args.join(" ")}`);
  const result = spawnSync(command, args, { cwd: root, encoding: "utf8", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (result.status === 0) return true;
  const output = `${result.stdout ?? ""}\n${result.stderr ?? ""}`;
  const network = /getaddrinfo \w+ \S+|\b(?:ECONNREFUSED|ETIMEDOUT|ECONNRESET)\b[^\n]*/.exec(output)?.[0];
  say(`  failed: ${network ?? output.trim().split("\n").slice(-3).join(" / ") ?? `exit ${result.status}`}`);
  return false;
}

function isDebianLike() {
  try {
    return /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(fs.readFileSync("/etc/os-release", "utf8"));
  } catch {
    return false;
  }
}

/** Finds or installs a browser; returns the exit code. */
export function ensureBrowser(env = process.env) {
  const found = findBrowser(env);
  if (found) return 0;
  if (env.CHROMIUM_PATH) {
    console.error(`ensure-browser: CHROMIUM_PATH is ${env.CHROMIUM_PATH}, which does not exist.`);
    return 1;
  }
  if (env.TANDEM_BROWSER_INSTALL !== "0") {
    say("no Chromium or Chrome found for the browser E2E tests; trying Playwright's managed Chromium");
    if (run(process.execPath, [path.join(path.dirname(require.resolve("playwright-core/package.json")), "cli.js"), "install", "chromium"]) && findBrowser(env)) return 0;
    if (process.platform === "linux" && process.getuid?.() === 0 && isDebianLike() && fs.existsSync("/usr/bin/apt-get")) {
      say("Playwright's download failed; installing Debian's chromium instead");
      const installed = (args) => run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...args]);
      const packages = ["chromium", "fonts-dejavu-core"];
      if ((installed(packages) || (run("apt-get", ["update", "-qq"]) && installed(packages))) && findBrowser(env)) return 0;
    }
  }
  console.error(
    [
      "ensure-browser: the browser E2E tests need Chromium or Chrome, and none could be found or installed.",
      "  Install one: `npx playwright-core install chromium` (downloads Playwright's build), or your system's package",
      "  (Debian/Ubuntu: `sudo apt-get install chromium`), or set CHROMIUM_PATH to a Chromium-based browser.",
    ].join("\n"),
  );
  return 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exit(ensureBrowser());
