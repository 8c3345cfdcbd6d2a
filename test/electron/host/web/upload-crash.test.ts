/**
 * A host killed mid-upload: web mode runs in its own process (startWebMode, bundled from the sources), an upload
 * through POST /api/upload stalls halfway, the process is SIGKILLed, and the next start must remove the temp file
 * the import left (hidden from the library, it would waste its space for good) and nothing else.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { request as httpRequest, type ClientRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { importTempName } from "../../../../electron/host/models/import-delete.js";
import { WEB_UPLOAD_NAME_HEADER, WEB_UPLOAD_PATH, type ApiOutcome, type WebServerFrame, type WindowMethod, type WindowResult } from "../../../../contracts/window/index.js";
import { sharedModel } from "../../../helpers/models.js";
import { bundleChild } from "../../../helpers/child-bundle.js";
import { isProcessAlive, waitFor, writeFakeEngine } from "../fake-engine.js";

/** The child: web mode as `npm run web` starts it, with the fake engine and a test data folder. */
const CHILD = `
import { startWebMode } from "./electron/host/web/main.ts";
const config = JSON.parse(process.env.TANDEM_TEST_WEB_CHILD);
const web = await startWebMode({
  dataDir: config.dataDir,
  staticDir: config.staticDir,
  engineEntry: config.engineEntry,
  hostInternals: { env: { PATH: process.env.PATH ?? "" }, supervisorTiming: { pingIntervalMs: 0 } },
});
process.stdout.write(JSON.stringify({ port: web.port, token: web.token }) + "\\n");
`;

let removeBundle = () => {};
let bundle: string;
let root: string;
let dataDir: string;
let models: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  const child = await bundleChild("web-upload-crash", { contents: CHILD });
  bundle = child.file;
  removeBundle = child.remove;
  root = mkdtempSync(join(tmpdir(), "tandem-upload-crash-"));
  dataDir = join(root, "data");
  models = join(dataDir, "models");
});

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  removeBundle();
});

interface WebChild {
  child: ChildProcess;
  port: number;
  token: string;
  output: () => string;
}

/** Starts web mode in its own process (no argv: web/main.ts's own entry point stays off) and waits for its address. */
async function startChild(staticDir: string, engineEntry: string): Promise<WebChild> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", `await import(${JSON.stringify(pathToFileURL(bundle).href)});`], {
    env: { ...process.env, TANDEM_TEST_WEB_CHILD: JSON.stringify({ dataDir, staticDir, engineEntry }) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const address = await new Promise<{ port: number; token: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`web mode did not start:\n${output}`)), 20_000);
    let stdout = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split("\n").find((l) => l.startsWith("{"));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { port: number; token: string });
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`web mode exited (${code ?? signal}):\n${output}`));
    });
  });
  return { child, ...address, output: () => output };
}

/** Starts an upload of `body` announced as `totalBytes` long; the request stays open until `end` is called. */
function startUpload(web: WebChild, name: string, totalBytes: number): { request: ClientRequest; response: Promise<{ status: number; body: string }> } {
  let request!: ClientRequest;
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    request = httpRequest(
      {
        host: "127.0.0.1",
        port: web.port,
        path: `${WEB_UPLOAD_PATH}?token=${web.token}`,
        method: "POST",
        headers: {
          Host: `127.0.0.1:${web.port}`,
          Origin: `http://127.0.0.1:${web.port}`,
          [WEB_UPLOAD_NAME_HEADER]: encodeURIComponent(name),
          "Content-Length": totalBytes,
        },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    request.on("error", reject);
  });
  return { request, response };
}

async function call<M extends WindowMethod>(web: WebChild, method: M, params: unknown): Promise<WindowResult<M>> {
  const socket = new WebSocket(`ws://127.0.0.1:${web.port}/api?token=${web.token}`, { origin: `http://127.0.0.1:${web.port}` });
  try {
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    const frame = new Promise<WebServerFrame>((resolve) => {
      socket.on("message", (data: Buffer) => {
        const parsed = JSON.parse(data.toString()) as WebServerFrame;
        if (parsed.kind === "result" && parsed.id === 1) resolve(parsed);
      });
    });
    socket.send(JSON.stringify({ kind: "call", id: 1, method, params }));
    const result = await frame;
    if (result.kind === "result" && result.ok) return result.result as WindowResult<M>;
    throw new Error(`${method} failed: ${JSON.stringify(result)}`);
  } finally {
    socket.close();
  }
}

const tempFiles = () => (existsSync(models) ? readdirSync(models).filter((name) => name.endsWith(".importing")) : []);

describe("a host killed mid-upload", () => {
  it("leaves a temp file that the next start removes, keeping the library, live imports and resumable downloads", async () => {
    const staticDir = join(root, "renderer");
    mkdirSync(staticDir, { recursive: true });
    writeFileSync(join(staticDir, "index.html"), "<!doctype html>");
    const engineEntry = writeFakeEngine();
    const model = readFileSync(sharedModel("kjv-chat-draft-1m.gguf"));

    const first = await startChild(staticDir, engineEntry);
    // A finished upload: the library must still list it after the crash.
    const done = startUpload(first, "kept.gguf", model.length);
    done.request.end(model);
    const doneResponse = await done.response;
    expect(doneResponse.status, doneResponse.body).toBe(200);

    // An upload that stalls halfway: its bytes are in a hidden temp file when the process is killed.
    const half = Math.floor(model.length / 2);
    const stalled = startUpload(first, "cut short.gguf", model.length);
    stalled.response.catch(() => {}); // the connection dies with the process
    stalled.request.write(model.subarray(0, half));
    await waitFor(() => tempFiles().some((name) => statSync(join(models, name)).size >= half), 10_000, "the upload's temp file to fill");
    const [leftover] = tempFiles();
    expect(leftover).toMatch(/^\.cut short\.gguf\.\d+\.[0-9a-z]+\.importing$/);
    const exited = new Promise((resolve) => first.child.once("exit", resolve));
    first.child.kill("SIGKILL");
    await exited;
    expect(isProcessAlive(first.child.pid!)).toBe(false);
    expect(existsSync(join(models, leftover!))).toBe(true);

    // Put there while it was down: another running Tandem's import into this shared folder (this test process is
    // alive), and a paused download (.part with its sidecar), which resumes and must never be cleaned up.
    const liveImport = importTempName("someone else's.gguf");
    writeFileSync(join(models, liveImport), model.subarray(0, 1000));
    writeFileSync(join(models, "paused.gguf.part"), model.subarray(0, 1000));
    writeFileSync(join(models, "paused.gguf.part.json"), JSON.stringify({ url: "http://127.0.0.1:9/paused.gguf", totalBytes: model.length }));

    const second = await startChild(staticDir, engineEntry);
    try {
      await waitFor(() => !existsSync(join(models, leftover!)), 10_000, "the leftover temp file to be removed");
      expect(tempFiles()).toEqual([liveImport]);
      expect(existsSync(join(models, "paused.gguf.part"))).toBe(true);
      expect(existsSync(join(models, "paused.gguf.part.json"))).toBe(true);
      // The file goes before its log line comes through the pipe: wait for the line rather than read it at once.
      await waitFor(() => second.output().includes("an import that never finished"), 10_000, "the removal's log line");

      const listing = await call(second, "listModels", {});
      expect(listing.models.map((m) => [m.name, m.architecture ?? m.error])).toEqual([["kept.gguf", "llama"]]);
      expect(listing.models[0]!.origin).toMatchObject({ kind: "imported", method: "uploaded" });
      const downloads = await call(second, "listDownloads", {});
      expect(downloads).toEqual([expect.objectContaining({ fileName: "paused.gguf", state: "paused", receivedBytes: 1000 })]);

      // And the library works: the same upload again goes through.
      const again = startUpload(second, "cut short.gguf", model.length);
      again.request.end(model);
      const outcome = JSON.parse((await again.response).body) as ApiOutcome<WindowResult<"importModel">>;
      expect(outcome.ok && outcome.result.model.name).toBe("cut short.gguf");
    } finally {
      const exited = new Promise((resolve) => second.child.once("exit", resolve));
      second.child.kill("SIGTERM");
      await exited;
    }
  });
});
