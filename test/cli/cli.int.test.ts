import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runTandem } from "../helpers/cli.js";
import { targetModel } from "../helpers/models.js";

const dataDir = mkdtempSync(path.join(os.tmpdir(), "tandem-cli-"));
const env = { ...process.env, TANDEM_DATA_DIR: dataDir };

const tandem = (args: string[]) => runTandem(args, env);

describe("tandem CLI", () => {
  it("streams a reply and ends with a JSON line of plausible figures", async () => {
    const prompt = "And God said, Let there be light";
    const { code, stdout } = await tandem(["chat", "--model", targetModel(), "--temperature", "0", "--max-tokens", "40", "--threads", "1", "--json", prompt]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    const summary = JSON.parse(lines.at(-1)!);
    expect(summary.text.length).toBeGreaterThan(10);
    expect(stdout.startsWith(summary.text)).toBe(true);
    expect(summary.tokens).toBeGreaterThan(0);
    expect(summary.tokens).toBeLessThanOrEqual(40);
    expect(summary.tokensPerSecond).toBeGreaterThan(1);
    expect(summary.timeToFirstTokenMs).toBeGreaterThan(0);
    expect(summary.timeToFirstTokenMs).toBeLessThan(10_000);
    // Greedy: the same prompt gives the same reply.
    const again = await tandem(["chat", "--model", targetModel(), "--temperature", "0", "--max-tokens", "40", "--threads", "1", "--json", prompt]);
    expect(JSON.parse(again.stdout.trimEnd().split("\n").at(-1)!).text).toBe(summary.text);
  });

  it("calibrates threads once and then uses the cached choice", async () => {
    const first = await tandem(["chat", "--model", targetModel(), "--temperature", "0", "--max-tokens", "4", "--json", "Amen."]);
    expect(first.code).toBe(0);
    const cache = JSON.parse((await import("node:fs")).readFileSync(path.join(dataDir, "cache", "threads-v2.json"), "utf8"));
    const entry = Object.values(cache)[0] as { threads: number; measured: Record<string, number> };
    expect(Object.keys(entry.measured).length).toBeGreaterThanOrEqual(1);
    const best = Object.entries(entry.measured).sort((a, b) => b[1] - a[1])[0]![0];
    // The choice is the fastest measured count, or a smaller one within 5% of it.
    expect(entry.measured[entry.threads]! * 1.05).toBeGreaterThanOrEqual(entry.measured[best]!);
    expect(JSON.parse(first.stdout.trimEnd().split("\n").at(-1)!).threads).toBe(entry.threads);
  });

  it("rejects a file that is not GGUF with a one-line reason and a non-zero exit", async () => {
    const text = path.join(dataDir, "notes.txt");
    writeFileSync(text, "These are my notes, not a model.\n".repeat(10));
    const { code, stdout, stderr } = await tandem(["chat", "--model", text, "hello"]);
    expect(code).not.toBe(0);
    expect(stdout).toBe("");
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/not a GGUF model/);
  });

  it("rejects a missing file and bad options clearly", async () => {
    const missing = await tandem(["chat", "--model", path.join(dataDir, "nope.gguf"), "hello"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/not found/);
    const badTemp = await tandem(["chat", "--model", targetModel(), "--temperature", "hot", "hello"]);
    expect(badTemp.code).toBe(2);
    expect(badTemp.stderr).toMatch(/--temperature/);
    const noPrompt = await tandem(["chat", "--model", targetModel()]);
    expect(noPrompt.code).toBe(2);
  });

  it("lists its commands with --help", async () => {
    const { code, stdout } = await tandem(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/chat --model/);
  });

  it("prints each command's own help with --help (and -h, and tandem help <command>), exit 0, running nothing", async () => {
    const commands: Record<string, RegExp> = {
      chat: /--max-tokens/,
      "make-model": /--draft-params/,
      bench: /--spec/,
      "bench-suite": /--quick/,
      "cache-bench": /--context-tokens/,
      inspect: /--json/,
      pull: /--dir/,
    };
    for (const [command, option] of Object.entries(commands)) {
      for (const args of [[command, "--help"], [command, "-h"], ["help", command], [command, "--model", "x.gguf", "--help"]]) {
        const { code, stdout, stderr } = await tandem(args);
        expect({ args, code, stderr }).toEqual({ args, code: 0, stderr: "" });
        expect(stdout.startsWith(`Usage: tandem ${command} [options]`), args.join(" ")).toBe(true);
        expect(stdout, args.join(" ")).toMatch(option);
        // Only that command's section: no other command's usage line.
        for (const other of Object.keys(commands).filter((c) => c !== command && !c.startsWith(`${command}-`))) {
          expect(stdout, `${args.join(" ")} mentions ${other}`).not.toMatch(new RegExp(`^  ${other} `, "m"));
        }
      }
    }
  });
});
