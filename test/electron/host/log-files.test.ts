/** Rotating log files, reading a log's tail, opening Tandem's folders, and the host writing its logs. */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { nodeLlamaCppVersion } from "../../../engine/node-llama-cpp-version.js";
import { appPaths, openAppFolder } from "../../../electron/host/app-folders.js";
import { createHost } from "../../../electron/host/host.js";
import { fileLogger, lineSplitter, readLogTail, RotatingLog, teeLogger } from "../../../electron/host/log-files.js";
import { consoleLogger } from "../../../electron/host/logger.js";
import { nodeForkSpawner } from "../../../electron/host/supervision/supervisor.js";
import type { Host } from "../../../electron/host/types.js";
import { apiError } from "./api-error.js";
import { recordingLogger } from "./test-logger.js";

const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), `tandem-${prefix}-`));
const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.dispose()));
});

describe("RotatingLog", () => {
  it("writes timestamped lines with their level", () => {
    const dir = tempDir("logs");
    const log = new RotatingLog(dir, "host", { now: () => new Date("2026-01-02T03:04:05.678Z") });
    fileLogger(log).warn("the disk is slow");
    fileLogger(log, "[engine]").error("boom\n");
    log.close();
    expect(readFileSync(join(dir, "host.log"), "utf8")).toBe(
      "2026-01-02T03:04:05.678Z WARN  the disk is slow\n2026-01-02T03:04:05.678Z ERROR [engine] boom\n",
    );
  });

  it("writes every message as one line: newlines and other control characters are escaped, not written", () => {
    const dir = tempDir("logs");
    const log = new RotatingLog(dir, "host", { now: () => new Date("2026-01-02T03:04:05.678Z") });
    // An upload named so that its log line would forge an entry of its own, plus a terminal escape and friends.
    fileLogger(log).warn('Refused an upload: "a.gguf\n2026-01-02T03:04:05.678Z ERROR forged"');
    fileLogger(log).info("nul\0 cr\r tab\t esc\u001b[2J del\u007f ls\u2028 ok\n");
    log.close();
    expect(readFileSync(join(dir, "host.log"), "utf8")).toBe(
      '2026-01-02T03:04:05.678Z WARN  Refused an upload: "a.gguf\\n2026-01-02T03:04:05.678Z ERROR forged"\n' +
        "2026-01-02T03:04:05.678Z INFO  nul\\0 cr\\r tab\\t esc\\u001b[2J del\\u007f ls\\u2028 ok\n",
    );
  });

  it("keeps the console logger to one line per message too", () => {
    const printed: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => printed.push(line));
    try {
      consoleLogger("web").warn("first\nsecond\r\n");
    } finally {
      vi.restoreAllMocks();
    }
    expect(printed).toEqual(["[web] warn: first\\nsecond"]);
  });

  it("rotates past the size limit and keeps only `keep` old files, newest first", () => {
    const dir = tempDir("logs");
    const log = new RotatingLog(dir, "engine", { maxBytes: 1000, keep: 3 });
    const line = (i: number) => `line ${String(i).padStart(4, "0")} ${"x".repeat(80)}`;
    for (let i = 0; i < 100; i++) log.write("info", line(i));
    log.close();
    expect(readdirSync(dir).sort()).toEqual(["engine.1.log", "engine.2.log", "engine.3.log", "engine.log"]);
    for (const name of readdirSync(dir)) expect(statSync(join(dir, name)).size).toBeLessThanOrEqual(1000);
    // Nothing lost between the current file and the newest old one, and the order is kept across the rotation.
    const current = readFileSync(join(dir, "engine.log"), "utf8");
    const previous = readFileSync(join(dir, "engine.1.log"), "utf8");
    expect(current).toContain(line(99));
    const lastOfPrevious = Number(/line (\d+)/.exec(previous.trim().split("\n").at(-1)!)![1]);
    const firstOfCurrent = Number(/line (\d+)/.exec(current.split("\n")[0])![1]);
    expect(firstOfCurrent).toBe(lastOfPrevious + 1);
    // The oldest lines were dropped with the fourth old file.
    const all = ["engine.3.log", "engine.2.log", "engine.1.log", "engine.log"].map((n) => readFileSync(join(dir, n), "utf8")).join("");
    expect(all).not.toContain(line(0));
  });

  it("continues an existing file and counts its size", () => {
    const dir = tempDir("logs");
    writeFileSync(join(dir, "host.log"), "x".repeat(950) + "\n");
    const log = new RotatingLog(dir, "host", { maxBytes: 1000 });
    log.write("info", "this line does not fit any more");
    log.close();
    expect(readFileSync(join(dir, "host.1.log"), "utf8")).toHaveLength(951);
    expect(readFileSync(join(dir, "host.log"), "utf8")).toMatch(/INFO {2}this line does not fit any more\n$/);
  });

  it("never throws when the file cannot be written", () => {
    const parent = tempDir("logs");
    // The logs "folder" is a file: every open fails.
    const blocked = join(parent, "logs");
    writeFileSync(blocked, "not a folder");
    const log = new RotatingLog(blocked, "host");
    expect(() => fileLogger(log).error("lost")).not.toThrow();
    // A read-only folder (skipped as root, who can write anyway).
    if (process.getuid?.() !== 0) {
      const readOnly = join(parent, "ro");
      mkdirSync(readOnly);
      chmodSync(readOnly, 0o500);
      expect(() => new RotatingLog(readOnly, "host").write("info", "lost")).not.toThrow();
      expect(existsSync(join(readOnly, "host.log"))).toBe(false);
    }
  });

  it("a tee keeps writing to the others when one logger throws", () => {
    const recorded = recordingLogger();
    const broken = { debug() {}, info() {}, warn() {}, error() { throw new Error("no"); } };
    expect(() => teeLogger(broken, recorded).error("still here")).not.toThrow();
    expect(recorded.messages("error")).toEqual(["still here"]);
  });

  it("splits a stream into lines across chunks", () => {
    const lines: string[] = [];
    const split = lineSplitter((line) => lines.push(line));
    split.push("first li");
    split.push("ne\r\nsecond\nthi");
    split.push(Buffer.from("rd"));
    split.flush();
    expect(lines).toEqual(["first line", "second", "third"]);
  });
});

describe("readLogTail", () => {
  it("answers the last N lines, reading from the end of a large file", async () => {
    const dir = tempDir("logs");
    // ~1.3 MB: several of the tail's 64 KB chunks, so a line crosses a chunk boundary.
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${"y".repeat(i % 97)}`);
    writeFileSync(join(dir, "engine.log"), lines.join("\n") + "\n");
    expect(await readLogTail(dir, "engine", 3)).toEqual(lines.slice(-3));
    expect(await readLogTail(dir, "engine", 1000)).toEqual(lines.slice(-1000));
  });

  it("answers [] for a missing log and the whole file when it is shorter", async () => {
    const dir = tempDir("logs");
    expect(await readLogTail(dir, "engine", 30)).toEqual([]);
    writeFileSync(join(dir, "host.log"), "one\ntwo");
    expect(await readLogTail(dir, "host", 30)).toEqual(["one", "two"]);
  });

  it("continues into the newest rotated file right after a rotation", async () => {
    const dir = tempDir("logs");
    writeFileSync(join(dir, "engine.1.log"), "a\nb\nc\n");
    writeFileSync(join(dir, "engine.log"), "d\n");
    expect(await readLogTail(dir, "engine", 3)).toEqual(["b", "c", "d"]);
  });
});

describe("app folders", () => {
  it("lists the data, models, cache and logs folders", () => {
    expect(appPaths("/data", "/models")).toEqual({ dataDir: "/data", modelsFolder: "/models", cache: join("/data", "cache"), logs: join("/data", "logs") });
  });

  it("without the shell's opener it is UNSUPPORTED and names the folder", async () => {
    const error = await apiError(openAppFolder("logs", appPaths("/data", "/models"), undefined));
    expect(error.code).toBe("UNSUPPORTED");
    expect(error.message).toContain(join("/data", "logs"));
  });

  it("creates the folder and opens it with the opener", async () => {
    const dataDir = tempDir("data");
    const opener = vi.fn(async () => true);
    expect(await openAppFolder("cache", appPaths(dataDir, "/models"), opener)).toEqual({ opened: true });
    expect(opener).toHaveBeenCalledWith(join(dataDir, "cache"));
    expect(statSync(join(dataDir, "cache")).isDirectory()).toBe(true);
  });

  it("reads node-llama-cpp's version from its package.json", () => {
    const expected = (JSON.parse(readFileSync(join(process.cwd(), "node_modules/node-llama-cpp/package.json"), "utf8")) as { version: string }).version;
    expect(nodeLlamaCppVersion()).toBe(expected);
    expect(nodeLlamaCppVersion(join(tempDir("nowhere"), "x.js"))).toBe("unknown");
  });
});

describe("the host's logs and folders", () => {
  /** An "engine" that prints its last words to stderr and exits, as a native crash would. */
  function crashingEngine(): string {
    const dir = tempDir("crashing-engine");
    const entry = join(dir, "engine.cjs");
    writeFileSync(entry, `process.stderr.write("loading the model\\nGGML_ASSERT(ctx) failed: boom");\nsetTimeout(() => process.exit(7), 20);\n`);
    return entry;
  }

  function makeHost(openFolder?: (path: string) => Promise<boolean>) {
    const dataDir = tempDir("host-logs");
    const host = createHost(
      { dataDir, engineEntry: crashingEngine(), spawner: nodeForkSpawner, mode: "web", appVersion: "1.2.3", openFolder },
      { env: { PATH: process.env.PATH }, supervisorTiming: { maxFastFailures: 1, pingIntervalMs: 0 } },
    );
    hosts.push(host);
    return { host, dataDir };
  }

  it("keeps the engine's stderr in engine.log and the crash in host.log", async () => {
    const { host, dataDir } = makeHost();
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      await host.start();
      expect((await host.api.getEngineStatus({})).state).toBe("failed");
      await vi.waitFor(async () => {
        const { lines } = await host.api.readLogTail({ log: "engine", lines: 30 });
        expect(lines.join("\n")).toMatch(/\[stderr\] loading the model\n.*\[stderr\] GGML_ASSERT\(ctx\) failed: boom/);
      });
      const { lines: hostLines } = await host.api.readLogTail({ log: "host", lines: 30 });
      expect(hostLines.some((line) => /ERROR .*Engine crashed \(launch-failed, code 7\).*giving up/.test(line))).toBe(true);
      expect(existsSync(join(dataDir, "logs", "host.log"))).toBe(true);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("writes the engine's log events and stderr one line each, whatever they contain", async () => {
    // An "engine" whose log event and stderr try to forge log entries, then exits as a crash would.
    const entry = join(tempDir("forging-engine"), "engine.cjs");
    writeFileSync(
      entry,
      [
        `process.send({ kind: "event", event: "log", data: { level: "warn", message: "model loaded\\n2026-01-01T00:00:00.000Z ERROR forged by the engine\\u001b[31m" } });`,
        `process.stderr.write("progress 10%\\rprogress 99%\\n");`,
        `setTimeout(() => process.exit(7), 50);`,
      ].join("\n"),
    );
    const dataDir = tempDir("host-logs");
    const host = createHost(
      { dataDir, engineEntry: entry, spawner: nodeForkSpawner, mode: "web", appVersion: "1.2.3" },
      { logger: recordingLogger(), env: { PATH: process.env.PATH }, supervisorTiming: { maxFastFailures: 1, pingIntervalMs: 0 } },
    );
    hosts.push(host);
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      await host.start();
      await vi.waitFor(() => {
        const text = readFileSync(join(dataDir, "logs", "engine.log"), "utf8");
        expect(text).toContain("progress 99%");
        expect(text).toContain("forged by the engine");
      });
    } finally {
      vi.restoreAllMocks();
    }
    const lines = readFileSync(join(dataDir, "logs", "engine.log"), "utf8").trimEnd().split("\n");
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z (DEBUG|INFO |WARN |ERROR) /);
    expect(lines).toContainEqual(expect.stringMatching(/WARN {2}model loaded\\n2026-01-01T00:00:00\.000Z ERROR forged by the engine\\u001b\[31m$/));
    expect(lines).toContainEqual(expect.stringMatching(/INFO {2}\[stderr\] progress 10%\\rprogress 99%$/));
    expect(lines.filter((line) => line.includes("forged"))).toHaveLength(1);
  });

  it("reports its folders and versions, and opens a folder only with the shell's opener", async () => {
    const web = makeHost();
    const info = await web.host.api.getAppInfo({});
    expect(info).toMatchObject({ canOpenFolder: false, paths: { dataDir: web.dataDir, logs: join(web.dataDir, "logs"), cache: join(web.dataDir, "cache") } });
    expect(info.versions.nodeLlamaCpp).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.versions.node).toBe(process.versions.node);
    expect((await apiError(web.host.api.openFolder({ folder: "logs" }))).code).toBe("UNSUPPORTED");

    const opened: string[] = [];
    const app = makeHost(async (path) => {
      opened.push(path);
      return true;
    });
    expect((await app.host.api.getAppInfo({})).canOpenFolder).toBe(true);
    expect(await app.host.api.openFolder({ folder: "logs" })).toEqual({ opened: true });
    expect(await app.host.api.openFolder({ folder: "modelsFolder" })).toEqual({ opened: true });
    expect(opened).toEqual([join(app.dataDir, "logs"), (await app.host.api.getSettings({})).modelsFolder]);
  });
});
