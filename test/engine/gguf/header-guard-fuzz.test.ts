/**
 * Fuzzing the header guard and inspectGguf: a few hundred headers from a seeded PRNG (byte flips, counts and
 * lengths set to huge values, cuts at field offsets, shifted slices of the real KJV header and of synthetic F16 and
 * Q8_0 headers, and made-up headers). Every case must either pass or be refused with the expected error type.
 *
 * The loop runs in a child process with a 256 MB heap (header-guard-fuzz-child.ts, bundled here) and a deadline
 * per case, so that a crash or a hang, the very defects the guard exists for, fails this test with the offending
 * seed rather than killing vitest. Replay one case with TANDEM_FUZZ_SEED=<seed>.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkGgufFile } from "../../../engine/gguf/header-guard.js";
import { writeGguf } from "../../../engine/dev/synthetic/gguf-writer.js";
import { shapeFor } from "../../../engine/dev/synthetic/shapes.js";
import { buildVocabulary } from "../../../engine/dev/synthetic/tokenizer.js";
import { modelContent } from "../../../engine/dev/synthetic/weights.js";
import { repoPath, sharedModel } from "../../helpers/models.js";
import { bundleChild } from "../../helpers/child-bundle.js";

const CASES = 400;
const SEED = 20_240_601;
/** Safety bounds, not speed targets: a case takes a few ms. */
const CASE_DEADLINE_MS = 2_000;
const HEAP_MB = 256;

let removeBundle = () => {};
let bundle: string;
const work = mkdtempSync(path.join(os.tmpdir(), "tandem-header-fuzz-"));

beforeAll(async () => {
  const child = await bundleChild("header-guard-fuzz", { entry: repoPath("test/engine/gguf/header-guard-fuzz-child.ts") });
  bundle = child.file;
  removeBundle = child.remove;
});

afterAll(() => {
  removeBundle();
  rmSync(work, { recursive: true, force: true });
});

interface Outcome {
  done: number;
  failures: Array<{ seed: number; what: string; error: string }>;
  summary: Record<string, number> | null;
}

/** Runs the child over the cases; rejects naming the seed that crashed it or ran past its deadline. */
function runFuzz(config: object): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, "--input-type=module", "-e", `await import(${JSON.stringify(pathToFileURL(bundle).href)});`], {
      env: { ...process.env, TANDEM_FUZZ: JSON.stringify(config) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const outcome: Outcome = { done: 0, failures: [], summary: null };
    let current: { seed: number; what?: string } | null = null;
    let stderr = "";
    let pending = "";
    let deadline: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (error: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (error) reject(error);
      else resolve(outcome);
    };
    const arm = () => {
      clearTimeout(deadline);
      deadline = setTimeout(() => {
        const seed = current?.seed;
        child.kill("SIGKILL");
        finish(new Error(`fuzz case ${seed} ran past ${CASE_DEADLINE_MS} ms (replay: TANDEM_FUZZ_SEED=${seed})`));
      }, CASE_DEADLINE_MS);
    };
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.stdout.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (!line.trim()) continue;
        const message = JSON.parse(line) as { start?: number; done?: number; fail?: number; what?: string; error?: string; summary?: Record<string, number> };
        if (message.start !== undefined) {
          current = { seed: message.start };
          arm();
        } else if (message.done !== undefined) {
          outcome.done++;
          current = null;
          clearTimeout(deadline);
        } else if (message.fail !== undefined) {
          outcome.failures.push({ seed: message.fail, what: message.what ?? "", error: message.error ?? "" });
          current = null;
          clearTimeout(deadline);
        } else if (message.summary) {
          outcome.summary = message.summary;
        }
      }
    });
    child.on("exit", (code, signal) => {
      if (code === 0 && current === null) return finish(null);
      const seed = current?.seed;
      finish(new Error(`the fuzz child died (code ${code}, signal ${signal}) during case ${seed} (replay: TANDEM_FUZZ_SEED=${seed}): ${stderr.trim().split("\n").slice(-5).join(" | ")}`));
    });
  });
}

async function syntheticModel(quant: "f16" | "q8_0"): Promise<string> {
  const out = path.join(work, `synthetic-${quant}.gguf`);
  await writeGguf(
    out,
    modelContent({ name: `fuzz-${quant}`, shape: shapeFor(1_000_000, 512), vocabulary: buildVocabulary(512), contextLength: 256, quant, sharedSeed: 3, modelSeed: 4, noise: 0.1 }),
  );
  return out;
}

describe("header guard fuzzing", () => {
  it(`survives ${CASES} mutated and random headers, each refused with the expected error type or read`, async () => {
    const models = [sharedModel("kjv-chat-6m.gguf"), await syntheticModel("f16"), await syntheticModel("q8_0")];
    const bases = [];
    for (const model of models) bases.push({ path: model, headerEnd: (await checkGgufFile(model)).dataOffset });
    const cases = path.join(work, "cases");
    mkdirSync(cases);
    const only = process.env.TANDEM_FUZZ_SEED ? Number(process.env.TANDEM_FUZZ_SEED) : undefined;
    const started = performance.now();
    const outcome = await runFuzz({ dir: cases, seed: SEED, cases: CASES, bases, only });
    console.info(`header fuzz: ${outcome.done} cases in ${((performance.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(outcome.summary)}`);
    expect(outcome.failures).toEqual([]);
    expect(outcome.done).toBe(only !== undefined ? 1 : CASES);
    if (only === undefined) {
      // The mutations must exercise both sides: files that still read, and refusals of each kind.
      const summary = outcome.summary ?? {};
      const count = (pattern: RegExp) => Object.entries(summary).reduce((n, [key, v]) => n + (pattern.test(key) ? v : 0), 0);
      expect(count(/^ok \/ ok$/)).toBeGreaterThan(0);
      expect(count(/^refused:invalid/)).toBeGreaterThan(CASES / 10);
      expect(count(/^refused:truncated/)).toBeGreaterThan(CASES / 20);
    }
  }, 180_000);
});
