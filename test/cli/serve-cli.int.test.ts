/**
 * `tandem serve` as built (dist/cli.js) with the real model: prints the base URL, answers OpenAI requests with the
 * draft speculating, and stops the server and the engine on SIGTERM with exit code 0; usage errors exit 2.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runTandem } from "../helpers/cli.js";
import { repoPath, sharedModel, targetModel, TEST_THREADS } from "../helpers/models.js";

const env = { ...process.env, TANDEM_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "tandem-serve-")) };

const tandem = (args: string[]) => runTandem(args, env);

describe("tandem serve", () => {
  it("serves the model until SIGTERM, then stops cleanly", async () => {
    const args = ["serve", "--model", targetModel(), "--draft", sharedModel("kjv-chat-draft-1m.gguf"), "--spec", "draft"];
    const child = spawn(process.execPath, [repoPath("dist/cli.js"), ...args, "--threads", String(TEST_THREADS), "--context-size", "256", "--port", "0", "--api-key", "k-12345678"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!stdout.includes("\n")) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no URL line (stderr: ${stderr})`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const match = /^Tandem API server: (http:\/\/127\.0\.0\.1:\d+\/v1) \(model kjv-chat-6m\.gguf\)\n$/.exec(stdout);
      expect(match, stdout).not.toBeNull();
      const baseUrl = match![1]!;
      const headers = { Authorization: "Bearer k-12345678", "Content-Type": "application/json" };
      expect(await (await fetch(`${baseUrl}/models`, { headers })).json()).toMatchObject({ data: [{ id: "kjv-chat-6m.gguf" }] });
      const response = await fetch(`${baseUrl}/chat/completions`, {
        method: "POST",
        headers,
        body: JSON.stringify({ model: "kjv-chat-6m", temperature: 0, max_tokens: 30, messages: [{ role: "user", content: "In the beginning" }] }),
      });
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(body.choices[0].message.content.length).toBeGreaterThan(0);
      // --spec draft is the default of requests that name none.
      expect(body.timings).toMatchObject({ speculator: "draft" });
      expect(body.timings.draft_n).toBeGreaterThan(0);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/SIGTERM: stopping/);
  });

  it("refuses bad usage with exit code 2 and one line", async () => {
    const noModel = await tandem(["serve"]);
    expect(noModel).toMatchObject({ code: 2, stdout: "" });
    expect(noModel.stderr).toMatch(/--model/);
    const exposed = await tandem(["serve", "--model", targetModel(), "--host", "0.0.0.0"]);
    expect(exposed.code).toBe(2);
    expect(exposed.stderr.trim().split("\n")).toHaveLength(1);
    expect(exposed.stderr).toMatch(/needs an API key/);
    expect((await tandem(["serve", "--model", targetModel(), "--spec", "fast"])).code).toBe(2);
    expect((await tandem(["serve", "--model", targetModel(), "--port", "70000"])).code).toBe(2);
    const help = await tandem(["serve", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--api-key/);
  });

  it("exits 1 with a one-line reason when the model cannot be loaded", async () => {
    const missing = await tandem(["serve", "--model", path.join(env.TANDEM_DATA_DIR, "nope.gguf"), "--port", "0"]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("");
    expect(missing.stderr.trim().split("\n").at(-1)).toMatch(/^tandem: .*(not found|does not exist|nope\.gguf)/);
  });
});
