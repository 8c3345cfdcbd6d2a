/** The library through the host API: several folders, watching them, where files came from, the HF token. */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createHost, type HostInternals } from "../../../../electron/host/host.js";
import { nodeForkSpawner } from "../../../../electron/host/supervision/supervisor.js";
import type { Host } from "../../../../electron/host/types.js";
import type { ModelsListing, Settings, WindowEvent, WindowEventData } from "../../../../contracts/window/index.js";
import { sharedModel, targetModel } from "../../../helpers/models.js";
import { apiError } from "../api-error.js";
import { startTestServer, type TestServer } from "../downloads/test-server.js";
import { waitFor, writeFakeEngine } from "../fake-engine.js";
import { recordingLogger } from "../test-logger.js";

const draft = () => sharedModel("kjv-chat-draft-1m.gguf");

let entry: string;
let server: TestServer;
const hosts: Host[] = [];

beforeAll(async () => {
  entry = writeFakeEngine();
  server = await startTestServer({ "/user/repo/resolve/main/kjv-draft-Q8_0.gguf": readFileSync(draft()) });
  server.json.set("/api/models/user/repo/tree/main", [{ type: "file", path: "kjv-draft-Q8_0.gguf", size: statSync(draft()).size }]);
});
afterAll(() => server.close());
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.dispose()));
});

function makeHost(internals: HostInternals = {}, env: NodeJS.ProcessEnv = { PATH: process.env.PATH }) {
  const root = mkdtempSync(join(tmpdir(), "tandem-library-"));
  const dataDir = join(root, "data");
  const host = createHost(
    { dataDir, engineEntry: entry, spawner: nodeForkSpawner, mode: "web", appVersion: "1" },
    { logger: recordingLogger(), env, watchDebounceMs: 50, supervisorTiming: { pingIntervalMs: 0, stopTimeoutMs: 500 }, ...internals },
  );
  hosts.push(host);
  const events: { event: WindowEvent; data: unknown }[] = [];
  host.onEvent((event, data) => events.push({ event, data }));
  const listings = () => events.filter((e) => e.event === "modelsChanged").map((e) => e.data as WindowEventData<"modelsChanged">);
  const settings = () => events.filter((e) => e.event === "settingsChanged").map((e) => e.data as Settings);
  const folder = (name: string) => {
    const path = join(root, name);
    mkdirSync(path, { recursive: true });
    return path;
  };
  return { host, root, dataDir, models: join(dataDir, "models"), listings, settings, folder };
}

const names = (listing: ModelsListing) => listing.models.map((m) => m.name).sort();

describe("library folders", () => {
  it("lists the main folder and the extra ones, each file with its folder; add is absolute and idempotent", async () => {
    const { host, models, folder, settings } = makeHost();
    mkdirSync(models, { recursive: true });
    copyFileSync(draft(), join(models, "main.gguf"));
    const extra = folder("collection");
    copyFileSync(draft(), join(extra, "extra.gguf"));

    const added = await host.api.addModelsFolder({ path: `${extra}/../collection/` });
    expect(added.folder).toBe(models);
    expect(added.folders).toEqual([models, extra]);
    expect(added.models.map((m) => [m.name, m.folder])).toEqual([
      ["main.gguf", models],
      ["extra.gguf", extra],
    ]);
    expect(settings().at(-1)?.extraModelsFolders).toEqual([extra]);
    expect((await host.api.getSettings({})).extraModelsFolders).toEqual([extra]);

    // Again, and the main folder: no-ops.
    expect((await host.api.addModelsFolder({ path: extra })).folders).toEqual([models, extra]);
    expect((await host.api.addModelsFolder({ path: models })).folders).toEqual([models, extra]);
    expect((await host.api.getSettings({})).extraModelsFolders).toEqual([extra]);
    expect((await host.api.listModels({})).folders).toEqual([models, extra]);
  });

  it("refuses a missing folder and a file; the main folder can't be removed; removing keeps the files", async () => {
    const { host, models, root, folder } = makeHost();
    expect((await apiError(host.api.addModelsFolder({ path: join(root, "nope") }))).code).toBe("NOT_FOUND");
    writeFileSync(join(root, "file.txt"), "x");
    expect((await apiError(host.api.addModelsFolder({ path: join(root, "file.txt") }))).code).toBe("BAD_REQUEST");
    expect((await host.api.getSettings({})).extraModelsFolders).toEqual([]);

    mkdirSync(models, { recursive: true });
    const main = await apiError(host.api.removeModelsFolder({ path: models }));
    expect(main.code).toBe("BAD_REQUEST");
    expect(main.message).not.toContain("\n");

    const extra = folder("more");
    copyFileSync(draft(), join(extra, "kept.gguf"));
    await host.api.addModelsFolder({ path: extra });
    const removed = await host.api.removeModelsFolder({ path: extra });
    expect(removed.folders).toEqual([models]);
    expect(removed.models).toEqual([]);
    expect(existsSync(join(extra, "kept.gguf"))).toBe(true);
    expect((await host.api.getSettings({})).extraModelsFolders).toEqual([]);
  });

  it("deletes a model in an extra folder, and still refuses files outside the library", async () => {
    const { host, folder, root } = makeHost();
    const extra = folder("extra");
    copyFileSync(draft(), join(extra, "gone.gguf"));
    await host.api.addModelsFolder({ path: extra });
    expect(await host.api.deleteModel({ path: join(extra, "gone.gguf") })).toMatchObject({ deleted: true });
    expect(readdirSync(extra)).toEqual([]);
    const outside = folder("outside");
    copyFileSync(draft(), join(outside, "x.gguf"));
    expect((await apiError(host.api.deleteModel({ path: join(outside, "x.gguf") }))).code).toBe("BAD_REQUEST");
    expect(existsSync(join(outside, "x.gguf"))).toBe(true);
    expect(root).toBeTruthy();
  });

  it("compatibleDrafts looks across every folder", async () => {
    const { host, models, folder } = makeHost();
    mkdirSync(models, { recursive: true });
    copyFileSync(targetModel(), join(models, "target.gguf"));
    const extra = folder("drafts");
    copyFileSync(draft(), join(extra, "draft.gguf"));
    await host.api.addModelsFolder({ path: extra });
    const { candidates } = await host.api.compatibleDrafts({ targetPath: join(models, "target.gguf") });
    expect(candidates.map((c) => [c.path, c.compatible, c.recommended])).toEqual([[join(extra, "draft.gguf"), true, true]]);
  });
});

describe("watching the library", () => {
  it("pushes modelsChanged when a GGUF is copied into or removed from a watched folder, ignoring partial downloads", async () => {
    const { host, models, folder, listings } = makeHost();
    mkdirSync(models, { recursive: true });
    const extra = folder("watched");
    await host.api.addModelsFolder({ path: extra });
    await host.start();

    // A download in progress and an import being written: no event for them.
    writeFileSync(join(models, "big.gguf.part"), "partial");
    writeFileSync(join(models, "big.gguf.part.json"), "{}");
    writeFileSync(join(models, ".x.gguf.123.abc.importing"), "temp");
    // A real file: an event with it.
    copyFileSync(draft(), join(extra, "dropped.gguf"));
    await waitFor(() => listings().some((l) => names(l).includes("dropped.gguf")), 5_000, "modelsChanged with dropped.gguf");
    const withIt = listings().find((l) => names(l).includes("dropped.gguf"))!;
    expect(withIt.models.find((m) => m.name === "dropped.gguf")).toMatchObject({ folder: extra, architecture: "llama", origin: null });
    expect(listings().every((l) => !names(l).some((n) => n.includes("big") || n.includes("importing")))).toBe(true);

    const before = listings().length;
    rmSync(join(extra, "dropped.gguf"));
    await waitFor(() => listings().length > before && !names(listings().at(-1)!).includes("dropped.gguf"), 5_000, "modelsChanged without it");

    // Only the partial files changing: nothing is pushed (checked after a real change that comes later).
    const count = listings().length;
    writeFileSync(join(models, "big.gguf.part"), "partial, more");
    copyFileSync(draft(), join(models, "later.gguf"));
    await waitFor(() => listings().some((l) => names(l).includes("later.gguf")), 5_000, "modelsChanged with later.gguf");
    expect(listings().length).toBe(count + 1);
  });

  it("re-arms when folders change, and a missing folder breaks nothing", async () => {
    const { host, root, folder, listings } = makeHost();
    // The main folder does not exist yet: start still works.
    await host.start();
    const next = folder("next");
    await host.api.setModelsFolder({ path: next });
    copyFileSync(draft(), join(next, "a.gguf"));
    await waitFor(() => listings().some((l) => names(l).includes("a.gguf")), 5_000, "an event from the new main folder");

    const extra = folder("extra");
    await host.api.addModelsFolder({ path: extra });
    rmSync(extra, { recursive: true });
    expect((await host.api.listModels({})).folders).toEqual([next, extra]);
    expect(names(await host.api.listModels({}))).toEqual(["a.gguf"]);
    await host.api.removeModelsFolder({ path: extra });
    const count = listings().length;
    mkdirSync(extra);
    copyFileSync(draft(), join(extra, "not-watched.gguf"));
    copyFileSync(draft(), join(next, "b.gguf"));
    await waitFor(() => listings().some((l) => names(l).includes("b.gguf")), 5_000, "an event for b.gguf");
    expect(listings().slice(count).some((l) => names(l).includes("not-watched.gguf"))).toBe(false);
    expect(root).toBeTruthy();
  });
});

describe("origins", () => {
  it("records imports (copied, linked) and downloads, shows them in the listing, and forgets them on delete", async () => {
    const { host, models, root } = makeHost({ downloads: { hfBaseUrl: server.url(""), progressIntervalMs: 20, downloadOptions: { retries: 1, backoffMs: 10 } } });
    const src = join(root, "src");
    mkdirSync(src);
    copyFileSync(draft(), join(src, "linked.gguf"));

    const copied = await host.api.importModel({ path: draft(), mode: "copy" });
    expect(copied.model.origin).toMatchObject({ kind: "imported", from: draft(), method: "copied" });
    expect(Math.abs(Date.now() - (copied.model.origin as { at: number }).at)).toBeLessThan(60_000);
    const linked = await host.api.importModel({ path: join(src, "linked.gguf"), mode: "link" });
    expect(linked.model.origin).toMatchObject({ kind: "imported", from: join(src, "linked.gguf"), method: "linked" });

    const download = await host.api.startDownload({ source: "hf:user/repo/kjv-draft-Q8_0.gguf" });
    let listing = await host.api.listModels({});
    await waitFor(() => (void host.api.listModels({}).then((l) => (listing = l)), listing.models.some((m) => m.name === "kjv-draft-Q8_0.gguf" && m.origin)), 10_000, "the download's origin");
    expect(listing.models.find((m) => m.name === "kjv-draft-Q8_0.gguf")?.origin).toMatchObject({ kind: "downloaded", source: "hf:user/repo/kjv-draft-Q8_0.gguf" });
    expect(download.destPath).toBe(join(models, "kjv-draft-Q8_0.gguf"));

    await host.api.deleteModel({ path: copied.model.path });
    // A new file under the same name has no origin: the row went with the deleted file.
    copyFileSync(draft(), copied.model.path);
    expect((await host.api.listModels({})).models.find((m) => m.path === copied.model.path)?.origin).toBeNull();
  });
});

describe("Hugging Face token", () => {
  it("is stored in a 0600 file by default, falls back to $HF_TOKEN, is removable, and is never returned", async () => {
    const { host, dataDir } = makeHost({}, { PATH: process.env.PATH, HF_TOKEN: "hf_from_env" });
    expect(await host.api.getHfToken({})).toEqual({ set: true, storage: "env" });
    const status = await host.api.setHfToken({ token: "  hf_secret_value  " });
    expect(status).toEqual({ set: true, storage: "file" });
    expect(JSON.stringify(status)).not.toContain("hf_secret");
    expect(readFileSync(join(dataDir, "hf-token"), "utf8")).toBe("hf_secret_value");
    expect(statSync(join(dataDir, "hf-token")).mode & 0o777).toBe(0o600);
    expect(await host.api.setHfToken({ token: null })).toEqual({ set: true, storage: "env" });
    expect(existsSync(join(dataDir, "hf-token"))).toBe(false);
  });

  it("is sent to the Hub at request time", async () => {
    const { host } = makeHost({ downloads: { hfBaseUrl: server.url(""), progressIntervalMs: 20, downloadOptions: { retries: 1, backoffMs: 10 } } });
    await host.api.setHfToken({ token: "hf_request_time" });
    server.requests.length = 0;
    await host.api.startDownload({ source: "hf:user/repo/kjv-draft-Q8_0.gguf" });
    await waitFor(() => server.requests.some((r) => r.path.endsWith("/resolve/main/kjv-draft-Q8_0.gguf")), 5_000, "the file request");
    const hub = server.requests.filter((r) => r.path.includes("/user/repo/"));
    expect(hub.length).toBeGreaterThanOrEqual(2);
    expect(hub.every((r) => r.authorization === "Bearer hf_request_time")).toBe(true);
  });
});
