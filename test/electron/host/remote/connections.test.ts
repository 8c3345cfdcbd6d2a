/** Saved connections: the key in its own SecretStore, never returned; test records the kind; remove forgets both. */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CONNECTIONS_FILE, RemoteConnections } from "../../../../electron/host/remote/connections.js";
import { json, startFakeServer, type FakeServer } from "./fake-server.js";
import * as llama from "./fixtures/llama-server.js";

let server: FakeServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe("RemoteConnections", () => {
  it("adds, lists without the key, tests (Connected: 1 model), hands the key only to a client, removes", async () => {
    server = await startFakeServer({
      "/v1/models": (req, res) =>
        req.headers.authorization === "Bearer sk-secret"
          ? json(200, llama.models)(req, res, "", 1)
          : json(401, { error: { message: "Invalid API Key" } })(req, res, "", 1),
      "/props": json(200, llama.props),
    });
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "tandem-remote-"));
    const connections = new RemoteConnections({ dataDir });
    const added = await connections.add({ baseUrl: `${server.url}/v1/`, apiKey: "sk-secret" });
    expect(added).toMatchObject({ name: new URL(server.url).host, kindSetting: "auto", kind: null, hasApiKey: true });
    expect(JSON.stringify(await connections.list())).not.toContain("sk-secret");
    expect(readFileSync(path.join(dataDir, CONNECTIONS_FILE), "utf8")).not.toContain("sk-secret");
    expect(statSync(path.join(dataDir, CONNECTIONS_FILE)).mode & 0o777).toBe(0o600);

    const test = await connections.test(added.id);
    expect(test).toEqual({ ok: true, kind: "llama-server", version: "b1-80fb11a", models: [llama.MODEL], message: "Connected: 1 model (llama-server b1-80fb11a)" });
    expect((await connections.get(added.id)).kind).toBe("llama-server");

    const { client } = await connections.clientFor(added.id);
    expect(await client.listModels()).toHaveLength(1);

    await connections.update(added.id, { apiKey: "wrong" });
    expect(await connections.test(added.id)).toMatchObject({ ok: false, code: "auth" });
    await connections.update(added.id, { apiKey: null });
    expect((await connections.get(added.id)).hasApiKey).toBe(false);

    expect(await connections.testUnsaved({ baseUrl: server.url, apiKey: "sk-secret" })).toMatchObject({ ok: true, models: [llama.MODEL] });
    expect(await connections.testUnsaved({ baseUrl: "nonsense" })).toMatchObject({ ok: false, code: "bad-request" });

    await connections.remove(added.id);
    expect(await connections.list()).toEqual([]);
    await expect(connections.get(added.id)).rejects.toMatchObject({ code: "not-found" });
  });

  it("keeps a chosen kind, and refuses a URL that is not one", async () => {
    const connections = new RemoteConnections({ dataDir: mkdtempSync(path.join(os.tmpdir(), "tandem-remote-")) });
    expect(await connections.add({ baseUrl: "http://gpu:8000", name: "GPU box", kindSetting: "vllm" })).toMatchObject({ name: "GPU box", kind: "vllm", hasApiKey: false });
    await expect(connections.add({ baseUrl: "gpu:8000" })).rejects.toMatchObject({ code: "bad-request" });
  });

  it("a damaged connections file is an error, never read as empty and written over", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "tandem-remote-"));
    const file = path.join(dataDir, CONNECTIONS_FILE);
    writeFileSync(file, '{"version":1,"connections":[{"id":"a"');
    const connections = new RemoteConnections({ dataDir });
    await expect(connections.list()).rejects.toThrow(/damaged/);
    await expect(connections.add({ baseUrl: "http://127.0.0.1:9/v1" })).rejects.toThrow(/damaged/);
    expect(readFileSync(file, "utf8")).toBe('{"version":1,"connections":[{"id":"a"');
  });
});
