/**
 * The GitHub workflows: triggers, runners, and that every npm script, file and path they name exists, so a
 * rename in package.json or the repository breaks this test rather than the next release.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { loadBuilderConfig, root } from "./builder-kit.js";

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  "runs-on": string;
  needs?: string | string[];
  strategy?: { matrix: { os?: string[]; include?: { os: string; args?: string }[] } };
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const load = (name: string) => YAML.parse(fs.readFileSync(path.join(root, ".github/workflows", name), "utf8")) as Workflow;
const scripts = (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
const ci = load("ci.yml");
const release = load("release.yml");

/** Every `npm run <script>` in the run steps. */
function npmRuns(workflow: Workflow): string[] {
  return Object.values(workflow.jobs).flatMap((job) => job.steps.flatMap((step) => [...(step.run ?? "").matchAll(/npm run ([\w:.-]+)/g)].map((m) => m[1])));
}

describe("workflows", () => {
  it("name only npm scripts that exist", () => {
    for (const workflow of [ci, release]) {
      const used = npmRuns(workflow);
      expect(used.length).toBeGreaterThan(0);
      for (const script of used) expect(scripts, script).toHaveProperty(script);
    }
  });

  it("install with npm ci on Node 22 (electron-builder's native rebuild needs it) and never download a browser", () => {
    for (const workflow of [ci, release]) {
      for (const [name, job] of Object.entries(workflow.jobs)) {
        if (!job.steps.some((s) => s.run?.includes("npm "))) continue;
        expect(job.steps.some((s) => /^npm ci\b/.test(s.run ?? "")), name).toBe(true);
        const node = job.steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
        expect(node?.with?.["node-version"], name).toBe(22);
        // Electron's own binary is not needed: electron-builder fetches the build it packages, and no CI step
        // launches the app. The variable is set at job level so `npm ci` sees it.
        expect(job.env?.ELECTRON_SKIP_BINARY_DOWNLOAD, name).toBe("1");
      }
    }
  });
});

describe("ci.yml", () => {
  it("runs on pushes to main and on pull requests, on all three platforms", () => {
    expect(Object.keys(ci.on).sort()).toEqual(["pull_request", "push"]);
    expect(ci.jobs.checks.strategy?.matrix.os).toEqual(["ubuntu-latest", "windows-latest", "macos-latest"]);
  });

  it("typechecks, lints, builds and runs the model-free suites (packaging checks included)", () => {
    const runs = ci.jobs.checks.steps.map((s) => s.run).filter(Boolean);
    expect(runs).toEqual(expect.arrayContaining(["npm run typecheck", "npm run lint", "npm run build", "npm run test:packaging"]));
    expect(runs.indexOf("npm run build")).toBeLessThan(runs.indexOf("npm run test:packaging"));
    expect(scripts["test:packaging"]).toMatch(/vitest run --project build/);
    // Mirrors .ci/run, which does the same plus the model-dependent suites on the project's machines.
    const ciRun = fs.readFileSync(path.join(root, ".ci/run"), "utf8");
    for (const step of ["npm run typecheck", "npm run lint", "npm test"]) expect(ciRun).toContain(step);
  });
});

describe("release.yml", () => {
  it("runs on version tags only and may write releases", () => {
    expect(release.on).toEqual({ push: { tags: ["v*"] } });
    expect(release.permissions).toEqual({ contents: "write" });
  });

  it("builds each installer natively: Linux, Windows, and each Mac architecture on its own runner", () => {
    const include = release.jobs.build.strategy?.matrix.include ?? [];
    const byOs = Object.fromEntries(include.map((entry) => [entry.os, entry.args]));
    expect(byOs).toEqual({
      "ubuntu-latest": "--linux AppImage deb --x64",
      "windows-latest": "--win nsis --x64",
      "macos-latest": "--mac dmg --arm64",
      "macos-15-intel": "--mac dmg --x64",
    });
    // The targets agree with electron-builder.yml.
    const config = loadBuilderConfig();
    expect(config.linux.target).toEqual(["AppImage", "deb"]);
    expect(config.win.target).toEqual(["nsis"]);
    expect(config.mac.target[0].arch.sort()).toEqual(["arm64", "x64"]);
  });

  it("checks, then builds with `npm run dist`, whose electron-builder gets the matrix arguments", () => {
    const runs = release.jobs.build.steps.map((s) => s.run ?? "");
    const dist = runs.findIndex((r) => r.startsWith("npm run dist -- ${{ matrix.args }}"));
    expect(dist).toBeGreaterThan(-1);
    expect(runs.indexOf("npm run test:packaging")).toBeGreaterThan(-1);
    expect(runs.indexOf("npm run test:packaging")).toBeLessThan(dist);
    expect(scripts.dist).toMatch(/^npm run build && electron-builder\b/);
    expect(scripts.dist).toContain("--publish never");
  });

  it("uploads the installers from electron-builder's output folder and attaches them to the tag's release", () => {
    const output = loadBuilderConfig().directories.output;
    const upload = release.jobs.build.steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
    const paths = String(upload?.with?.path).trim().split("\n");
    expect(paths.sort()).toEqual([`${output}/*.AppImage`, `${output}/*.deb`, `${output}/*.dmg`, `${output}/*.exe`].sort());
    expect(upload?.with?.["if-no-files-found"]).toBe("error");

    const publish = release.jobs.release;
    expect(publish.needs).toBe("build");
    expect(publish.steps.some((s) => s.uses?.startsWith("actions/download-artifact@"))).toBe(true);
    const script = publish.steps.map((s) => s.run ?? "").join("\n");
    expect(script).toMatch(/gh release create "\$GITHUB_REF_NAME"/);
    expect(script).toMatch(/gh release upload "\$GITHUB_REF_NAME" installers\/\*/);
  });

  it("references only files that exist", () => {
    for (const file of ["electron-builder.yml", "package-lock.json", ".ci/run", "assets/icon.ico", "assets/icon.icns", "assets/icons"]) {
      expect(fs.existsSync(path.join(root, file)), file).toBe(true);
    }
  });
});
