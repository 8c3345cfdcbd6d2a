/** Model downloads through the host API, against a local HTTP server (no engine is started). */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DownloadManagerOptions } from "../../../../electron/host/downloads/download-manager.js";
import { createHost } from "../../../../electron/host/host.js";
import { nodeForkSpawner } from "../../../../electron/host/supervision/supervisor.js";
import type { Host } from "../../../../electron/host/types.js";
import type { DownloadInfo } from "../../../../contracts/window/index.js";
import { sharedModel } from "../../../helpers/models.js";
import { apiError } from "../api-error.js";
import { startTestServer, type TestServer } from "./test-server.js";
import { waitFor, writeFakeEngine } from "../fake-engine.js";
import { recordingLogger } from "../test-logger.js";

const model = readFileSync(sharedModel("kjv-chat-draft-1m.gguf"));
const sha256 = createHash("sha256").update(model).digest("hex");
const FILE = "/files/kjv-chat-draft-1m.gguf";

let server: TestServer;
let entry: string;
const hosts: Host[] = [];

beforeAll(async () => {
  entry = writeFakeEngine();
  server = await startTestServer({ [FILE]: model, "/user/repo/resolve/main/kjv-draft-Q8_0.gguf": model });
  server.json.set("/api/models/user/repo/tree/main", [
    { type: "file", path: "README.md", size: 10 },
    { type: "file", path: "kjv-draft-Q8_0.gguf", size: model.length, lfs: { oid: sha256, size: model.length } },
  ]);
});
afterAll(() => server.close());
beforeEach(() => {
  server.faults.clear();
  server.requests.length = 0;
});
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.dispose()));
});

function makeHost(dataDir = mkdtempSync(join(tmpdir(), "tandem-downloads-")), progressIntervalMs = 20, downloadOptions: DownloadManagerOptions["downloadOptions"] = {}) {
  const host = createHost(
    { dataDir, engineEntry: entry, spawner: nodeForkSpawner, mode: "web", appVersion: "1" },
    {
      logger: recordingLogger(),
      downloads: { hfBaseUrl: server.url(""), progressIntervalMs, downloadOptions: { retries: 1, backoffMs: 10, stallTimeoutMs: 10_000, ...downloadOptions } },
    },
  );
  hosts.push(host);
  const events: DownloadInfo[] = [];
  host.onEvent((event, data) => {
    if (event === "downloadProgress") events.push(data as DownloadInfo);
  });
  const last = (id: string) => events.filter((e) => e.id === id).at(-1);
  const until = async (id: string, state: DownloadInfo["state"]) => {
    await waitFor(() => last(id)?.state === state, 10_000, `download ${id} ${state} (now ${last(id)?.state})`);
    return last(id)!;
  };
  return { host, dataDir, models: join(dataDir, "models"), events, until };
}

describe("downloads", () => {
  it("downloads a URL into the models folder with progress; the file is then in the listing", async () => {
    const { host, models, events, until } = makeHost();
    const started = await host.api.startDownload({ source: server.url(FILE), sha256 });
    expect(started).toMatchObject({ fileName: "kjv-chat-draft-1m.gguf", destPath: join(models, "kjv-chat-draft-1m.gguf"), error: null });
    const done = await until(started.id, "done");
    expect(done).toMatchObject({ receivedBytes: model.length, totalBytes: model.length, error: null });
    expect(events.some((e) => e.state === "downloading")).toBe(true);
    const listing = await host.api.listModels({});
    expect(listing.models.map((m) => m.name)).toEqual(["kjv-chat-draft-1m.gguf"]);
    expect(readdirSync(models)).toEqual(["kjv-chat-draft-1m.gguf"]);
    expect(await host.api.listDownloads({})).toEqual([done]);
  });

  it("resolves hf: references (size and SHA-256 from the tree API)", async () => {
    const { host, models, until } = makeHost();
    const started = await host.api.startDownload({ source: "hf:user/repo:Q8_0" });
    expect(started).toMatchObject({ fileName: "kjv-draft-Q8_0.gguf", totalBytes: model.length });
    await until(started.id, "done");
    expect(readFileSync(join(models, "kjv-draft-Q8_0.gguf")).equals(model)).toBe(true);
    expect((await apiError(host.api.startDownload({ source: "hf:user/repo:Q2_K" }))).code).toBe("DOWNLOAD_FAILED");
    expect((await apiError(host.api.startDownload({ source: "ftp://x/y.gguf" }))).code).toBe("BAD_REQUEST");
  });

  it("refuses a file name with a control character (BAD_REQUEST) before anything is fetched or written", async () => {
    const { host, models } = makeHost();
    const refused = await apiError(host.api.startDownload({ source: server.url("/a%0Ab.gguf") }));
    expect(refused.code).toBe("BAD_REQUEST");
    expect(refused.message).toContain('"a\\nb.gguf" contains a control character');
    expect(existsSync(models) ? readdirSync(models) : []).toEqual([]);
    expect(await host.api.listDownloads({})).toEqual([]);
  });

  it("pauses (keeping the .part), resumes with a range request, and a second start returns the same download", async () => {
    const { host, models, until } = makeHost();
    server.faults.set(FILE, [{ kind: "stall", afterBytes: 300_000 }]);
    const started = await host.api.startDownload({ source: server.url(FILE) });
    await waitFor(() => existsSync(join(models, "kjv-chat-draft-1m.gguf.part")), 5000, ".part");
    const again = await host.api.startDownload({ source: server.url(FILE) });
    expect(again.id).toBe(started.id);
    await new Promise((r) => setTimeout(r, 100));
    const paused = await host.api.pauseDownload({ id: started.id });
    expect(paused.state).toBe("paused");
    expect(readdirSync(models).sort()).toEqual(["kjv-chat-draft-1m.gguf.part", "kjv-chat-draft-1m.gguf.part.json"]);
    expect(await host.api.resumeDownload({ id: started.id })).toMatchObject({ state: "downloading" });
    await until(started.id, "done");
    expect(server.requests.at(-1)?.range).toBe("bytes=300000-");
    expect(readFileSync(join(models, "kjv-chat-draft-1m.gguf")).equals(model)).toBe(true);
  });

  it("a paused download reports the bytes its .part holds, not the last throttled progress", async () => {
    const { host, models, events } = makeHost(undefined, 60_000);
    server.faults.set(FILE, [{ kind: "stall", afterBytes: 300_000 }]);
    const started = await host.api.startDownload({ source: server.url(FILE) });
    const part = join(models, "kjv-chat-draft-1m.gguf.part");
    await waitFor(() => existsSync(part) && statSync(part).size === 300_000, 5000, ".part at 300,000 bytes");
    expect(events.filter((e) => e.id === started.id).every((e) => e.receivedBytes < 300_000)).toBe(true); // throttled
    const paused = await host.api.pauseDownload({ id: started.id });
    expect(paused).toMatchObject({ state: "paused", receivedBytes: 300_000 });
    expect(events.at(-1)).toMatchObject({ state: "paused", receivedBytes: 300_000 });
    expect((await host.api.listDownloads({}))[0]).toMatchObject({ state: "paused", receivedBytes: 300_000 });
  });

  it("while the server holds the file mid-way, the speed drops to 0 with no ETA (not the last speed); released, it completes", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // ~300 KB over ~0.5 s (a measurable speed), then nothing until released.
    server.faults.set(FILE, [{ kind: "hold", afterBytes: 300_000, chunkBytes: 15_000, chunkDelayMs: 25, until: held }]);
    const { host, events, until } = makeHost(undefined, 20, { speedWindowMs: 1000, stalledAfterMs: 500 });
    const started = await host.api.startDownload({ source: server.url(FILE), sha256 });
    const mine = () => events.filter((e) => e.id === started.id);
    try {
      await waitFor(() => mine().some((e) => e.state === "downloading" && e.bytesPerSecond > 0 && e.etaSeconds !== null), 5000, "a speed and an ETA");
      await waitFor(() => server.requests.at(-1)?.sentBytes === 300_000, 5000, "the server holding at 300,000 bytes");
      // No new bytes: a progress event says so on its own (the stall timeout, 10 s, is far away).
      await waitFor(() => mine().at(-1)?.bytesPerSecond === 0, 5000, `the speed dropping to 0 (now ${mine().at(-1)?.bytesPerSecond})`);
      expect(mine().at(-1)).toMatchObject({ state: "downloading", receivedBytes: 300_000, bytesPerSecond: 0, etaSeconds: null });
      expect((await host.api.listDownloads({}))[0]).toMatchObject({ state: "downloading", bytesPerSecond: 0, etaSeconds: null });
      expect(server.requests).toHaveLength(1); // held, not retried
    } finally {
      release();
    }
    const done = await until(started.id, "done");
    expect(done).toMatchObject({ receivedBytes: model.length, error: null });
  });

  it("cancel leaves no file (running or paused)", async () => {
    const { host, models, until } = makeHost();
    server.faults.set(FILE, [{ kind: "stall", afterBytes: 100_000 }]);
    const started = await host.api.startDownload({ source: server.url(FILE) });
    await waitFor(() => existsSync(join(models, "kjv-chat-draft-1m.gguf.part")), 5000, ".part");
    expect((await host.api.cancelDownload({ id: started.id })).state).toBe("cancelled");
    expect(readdirSync(models)).toEqual([]);

    server.faults.set(FILE, [{ kind: "stall", afterBytes: 100_000 }]);
    const second = await host.api.startDownload({ source: server.url(FILE) });
    expect(second.id).not.toBe(started.id);
    await waitFor(() => existsSync(join(models, "kjv-chat-draft-1m.gguf.part")), 5000, ".part");
    await new Promise((r) => setTimeout(r, 50));
    await host.api.pauseDownload({ id: second.id });
    await host.api.cancelDownload({ id: second.id });
    await until(second.id, "cancelled");
    expect(readdirSync(models)).toEqual([]);
    expect((await host.api.listModels({})).models).toEqual([]);
  });

  it("a 404 ends failed with the message", async () => {
    const { host, until } = makeHost();
    const started = await host.api.startDownload({ source: server.url("/files/missing.gguf") });
    const failed = await until(started.id, "failed");
    expect(failed.error).toMatch(/not found.*HTTP 404/);
    expect((await apiError(host.api.pauseDownload({ id: "nope" }))).code).toBe("NOT_FOUND");
  });

  it("after a restart (new host, same data dir) lists the partial download as paused and resumes it", async () => {
    const first = makeHost();
    server.faults.set(FILE, [{ kind: "stall", afterBytes: 200_000 }]);
    const started = await first.host.api.startDownload({ source: server.url(FILE), sha256 });
    await waitFor(() => existsSync(join(first.models, "kjv-chat-draft-1m.gguf.part")), 5000, ".part");
    await new Promise((r) => setTimeout(r, 100));
    await first.host.dispose(); // pauses running downloads
    expect(first.events.at(-1)?.state).toBe("paused");

    const second = makeHost(first.dataDir);
    const listed = await second.host.api.listDownloads({});
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ state: "paused", fileName: "kjv-chat-draft-1m.gguf", source: server.url(FILE), receivedBytes: 200_000 });
    expect(listed[0].id).not.toBe(started.id);
    await second.host.api.resumeDownload({ id: listed[0].id });
    const done = await second.until(listed[0].id, "done");
    expect(done.receivedBytes).toBe(model.length);
    expect(server.requests.at(-1)?.range).toBe("bytes=200000-");
    expect((await second.host.api.listModels({})).models.map((m) => m.name)).toEqual(["kjv-chat-draft-1m.gguf"]);
  });
});
