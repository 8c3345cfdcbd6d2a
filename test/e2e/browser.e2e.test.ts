/**
 * npm test's first step (test/e2e/browser.mjs): which browser the E2E tests drive, and what it says when there is
 * none. The install paths (Playwright's download, Debian's package) are exercised by a fresh machine's `npm test`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { repoPath } from "../helpers/models.js";
// @ts-expect-error: a plain .mjs script (npm test runs it before anything is built), without type declarations
import { findBrowser } from "./browser.mjs";

describe("the E2E browser", () => {
  it("is a real Chromium that starts and names its version", () => {
    const found = findBrowser();
    expect(found, "npm test's first step should have found or installed one").not.toBeNull();
    const version = execFileSync(found.path, ["--version"], { encoding: "utf8" });
    expect(version).toMatch(/(Chromium|Chrome)\D+\d+\./);
  });

  it("honours CHROMIUM_PATH, and a CHROMIUM_PATH that does not exist fails clearly without installing anything", () => {
    const found = findBrowser();
    expect(findBrowser({ CHROMIUM_PATH: found.path })).toEqual({ path: found.path, source: "CHROMIUM_PATH" });
    expect(findBrowser({ CHROMIUM_PATH: "/nonexistent/chrome" })).toBeNull();
    const run = spawnSync(process.execPath, [repoPath("test/e2e/browser.mjs")], {
      env: { ...process.env, CHROMIUM_PATH: "/nonexistent/chrome" },
      encoding: "utf8",
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/CHROMIUM_PATH is \/nonexistent\/chrome, which does not exist/);
    expect(run.stdout).not.toMatch(/install/);
  });
});
