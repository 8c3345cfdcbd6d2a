/** Web mode's upload route: POST WEB_UPLOAD_PATH?token=… with the GGUF bytes, imported into the main models folder. */
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHost } from "../../../../electron/host/host.js";
import { hasControlCharacter } from "../../../../electron/host/models/file-names.js";
import { nodeForkSpawner } from "../../../../electron/host/supervision/supervisor.js";
import type { Host } from "../../../../electron/host/types.js";
import { startWebServer, type WebServer } from "../../../../electron/host/web/server.js";
import { WEB_UPLOAD_NAME_HEADER, WEB_UPLOAD_PATH, type ApiOutcome, type WindowResult } from "../../../../contracts/window/index.js";
import { targetModel } from "../../../helpers/models.js";
import { writeFakeEngine } from "../fake-engine.js";
import { recordingLogger } from "../test-logger.js";

const TOKEN = "c".repeat(64);
let host: Host;
let server: WebServer;
let models: string;

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), "tandem-upload-test-"));
  const dataDir = join(root, "data");
  models = join(dataDir, "models");
  host = createHost(
    { dataDir, engineEntry: writeFakeEngine(), spawner: nodeForkSpawner, mode: "web", appVersion: "1.0.0" },
    { logger: recordingLogger(), env: { PATH: process.env.PATH }, supervisorTiming: { pingIntervalMs: 0, stopTimeoutMs: 500 } },
  );
  server = await startWebServer({ host, port: 0, staticDir: join(root, "renderer"), token: TOKEN, logger: recordingLogger() });
});

afterAll(async () => {
  await server?.close();
  await host?.dispose();
});

interface UploadOptions {
  token?: string | null;
  origin?: string | null;
  name?: string | null;
  method?: string;
  body?: Buffer | string | null;
  file?: string;
}

/** Sends an upload; resolves with the HTTP status and the parsed JSON body (null when it is not JSON). */
function upload(options: UploadOptions): Promise<{ status: number; outcome: ApiOutcome<WindowResult<"importModel">> | null }> {
  const token = options.token === undefined ? TOKEN : options.token;
  const origin = options.origin === undefined ? `http://127.0.0.1:${server.port}` : options.origin;
  const headers: Record<string, string | number> = { Host: `127.0.0.1:${server.port}` };
  if (origin !== null) headers.Origin = origin;
  if (options.name !== null) headers[WEB_UPLOAD_NAME_HEADER] = encodeURIComponent(options.name ?? "upload.gguf");
  if (options.file) headers["Content-Length"] = statSync(options.file).size;
  else if (options.body != null) headers["Content-Length"] = Buffer.byteLength(options.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port: server.port,
        path: `${WEB_UPLOAD_PATH}${token === null ? "" : `?token=${token}`}`,
        method: options.method ?? "POST",
        headers,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => {
          let outcome = null;
          try {
            outcome = JSON.parse(text) as ApiOutcome<WindowResult<"importModel">>;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, outcome });
        });
      },
    );
    // A refused upload may be answered (and the socket closed) before the body is sent.
    req.on("error", (error: NodeJS.ErrnoException) => (error.code === "EPIPE" || error.code === "ECONNRESET" ? undefined : reject(error)));
    if (options.file) createReadStream(options.file).pipe(req);
    else req.end(options.body ?? undefined);
  });
}

const folderFiles = () => (existsSync(models) ? readdirSync(models) : []);

describe("web upload", () => {
  it("imports the real model into the main folder, recorded as uploaded", async () => {
    const { status, outcome } = await upload({ file: targetModel(), name: "my model.gguf" });
    expect(status).toBe(200);
    expect(outcome?.ok).toBe(true);
    if (!outcome?.ok) return;
    expect(outcome.result.method).toBe("uploaded");
    expect(outcome.result.model).toMatchObject({ name: "my model.gguf", path: join(models, "my model.gguf"), architecture: "llama", folder: models });
    expect(outcome.result.model.origin).toMatchObject({ kind: "imported", from: "my model.gguf", method: "uploaded" });
    expect(readFileSync(join(models, "my model.gguf")).equals(readFileSync(targetModel()))).toBe(true);
    expect(folderFiles()).toEqual(["my model.gguf"]);
    const listed = await host.api.listModels({});
    expect(listed.models.find((m) => m.name === "my model.gguf")?.origin).toMatchObject({ method: "uploaded" });

    // The same name again: " (2)".
    const again = await upload({ file: targetModel(), name: "my model.gguf" });
    expect(again.outcome?.ok && again.outcome.result.model.name).toBe("my model (2).gguf");
  });

  it("refuses a text file with NOT_GGUF and leaves nothing in the folder", async () => {
    const before = folderFiles();
    const { status, outcome } = await upload({ body: "these are not the weights you are looking for\n".repeat(100), name: "notes.gguf" });
    expect(status).toBe(400);
    expect(outcome).toMatchObject({ ok: false, error: { code: "NOT_GGUF" } });
    expect(outcome?.ok === false && outcome.error.message).not.toContain("\n");
    expect(outcome?.ok === false && outcome.error.message).not.toContain(models);
    expect(folderFiles()).toEqual(before);
  });

  it("refuses a wrong or missing token (401) and a foreign or missing Origin (403) before reading the body", async () => {
    const before = folderFiles();
    expect((await upload({ token: "d".repeat(64), file: targetModel() })).status).toBe(401);
    expect((await upload({ token: null, body: "x" })).status).toBe(401);
    expect((await upload({ origin: "http://evil.example", file: targetModel() })).status).toBe(403);
    expect((await upload({ origin: `http://localhost:${server.port + 1}`, body: "x" })).status).toBe(403);
    expect((await upload({ origin: null, body: "x" })).status).toBe(403);
    expect(folderFiles()).toEqual(before);
  });

  it("refuses other methods, a missing name, names with path separators and non-.gguf names", async () => {
    const before = folderFiles();
    const get = await upload({ method: "GET", body: null });
    expect(get.status).toBe(405);
    expect((await upload({ method: "PUT", body: "x" })).status).toBe(405);
    expect(await upload({ name: null, body: "x" })).toMatchObject({ status: 400, outcome: { ok: false, error: { code: "BAD_REQUEST" } } });
    expect(await upload({ name: "../escape.gguf", body: "x" })).toMatchObject({ status: 400, outcome: { ok: false, error: { code: "BAD_REQUEST" } } });
    expect(await upload({ name: "a\\b.gguf", body: "x" })).toMatchObject({ status: 400, outcome: { ok: false, error: { code: "BAD_REQUEST" } } });
    expect(await upload({ name: ".hidden.gguf", body: "x" })).toMatchObject({ status: 400, outcome: { ok: false } });
    expect(await upload({ name: "model.bin", body: "x" })).toMatchObject({ status: 400, outcome: { ok: false, error: { code: "NOT_GGUF" } } });
    expect(folderFiles()).toEqual(before);
    expect(existsSync(join(models, "..", "escape.gguf"))).toBe(false);
  });

  it("refuses names with control characters (400, BAD_REQUEST) before writing anything", async () => {
    const before = folderFiles();
    for (const name of ["a\nb.gguf", "a\u0000b.gguf", "a\rb.gguf", "a\tb.gguf", "a\u007fb.gguf", "model.gguf\n", "\u001b[31mred.gguf"]) {
      const { status, outcome } = await upload({ name, body: "x" });
      expect(status, JSON.stringify(name)).toBe(400);
      expect(outcome).toMatchObject({ ok: false, error: { code: "BAD_REQUEST", message: expect.stringContaining("contains a control character") } });
      // The message names the file with its control characters escaped, so it is one line too.
      expect(outcome?.ok === false && hasControlCharacter(outcome.error.message)).toBe(false);
    }
    expect(folderFiles()).toEqual(before);
    // The same rule without the web route (the host's own entry point).
    await expect(host.importUpload!("a\nb.gguf", Readable.from([Buffer.from("GGUF")]), 4)).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(folderFiles()).toEqual(before);
  });

  it("answers a too-big Content-Length with IMPORT_FAILED before writing anything", async () => {
    const before = folderFiles();
    const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port: server.port,
          path: `${WEB_UPLOAD_PATH}?token=${TOKEN}`,
          method: "POST",
          headers: {
            Host: `127.0.0.1:${server.port}`,
            Origin: `http://127.0.0.1:${server.port}`,
            [WEB_UPLOAD_NAME_HEADER]: "huge.gguf",
            "Content-Length": String(2 ** 52),
          },
        },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", (error: NodeJS.ErrnoException) => (error.code === "EPIPE" || error.code === "ECONNRESET" ? undefined : reject(error)));
      req.write("GGUF");
    });
    expect(result.status).toBe(400);
    expect(JSON.parse(result.body)).toMatchObject({ ok: false, error: { code: "IMPORT_FAILED", message: expect.stringMatching(/disk space/) } });
    expect(folderFiles()).toEqual(before);
  });
});
