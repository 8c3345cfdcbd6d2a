/** Calling the host API by name with untrusted params, as IPC and the web socket do: missing params mean {}. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invokeHostApi } from "../../../../electron/host/api/dispatch.js";
import { createHost } from "../../../../electron/host/host.js";
import { nodeForkSpawner } from "../../../../electron/host/supervision/supervisor.js";
import type { Host } from "../../../../electron/host/types.js";
import { parseWindowCall } from "../../../../contracts/window/index.js";
import { writeFakeEngine } from "../fake-engine.js";
import { recordingLogger } from "../test-logger.js";

let host: Host;

beforeAll(() => {
  // Never started: the store opens on first use, which is all these calls need.
  host = createHost(
    { dataDir: mkdtempSync(join(tmpdir(), "tandem-dispatch-")), engineEntry: writeFakeEngine(), spawner: nodeForkSpawner, mode: "web", appVersion: "1.0.0" },
    { logger: recordingLogger(), env: { PATH: process.env.PATH } },
  );
});

afterAll(() => host.dispose());

describe("invokeHostApi", () => {
  it("runs a method that takes no params, or only optional ones, called without params (undefined or null)", async () => {
    expect(await invokeHostApi(host.api, "getSettings", undefined)).toMatchObject({ ok: true, result: { temperature: 0.7 } });
    expect(await invokeHostApi(host.api, "getAppInfo", null)).toMatchObject({ ok: true, result: { mode: "web" } });
    expect(await invokeHostApi(host.api, "listConversations", undefined)).toEqual({ ok: true, result: [] });
    expect(await invokeHostApi(host.api, "createConversation", undefined)).toMatchObject({ ok: true, result: { title: "New chat" } });
  });

  it("says which method needs params, and which ones, when a call has none", async () => {
    expect(await invokeHostApi(host.api, "renameConversation", undefined)).toEqual({
      ok: false,
      error: { code: "BAD_REQUEST", message: "renameConversation needs params (id, title), but the call has none." },
    });
    expect(await invokeHostApi(host.api, "loadModel", null)).toEqual({
      ok: false,
      error: { code: "BAD_REQUEST", message: "loadModel needs params (path), but the call has none." },
    });
  });

  it("names the method when its params are wrong, and refuses unknown methods", async () => {
    const wrong = await invokeHostApi(host.api, "renameConversation", { id: "x", title: "" });
    expect(wrong).toMatchObject({ ok: false, error: { code: "BAD_REQUEST", message: expect.stringMatching(/^Invalid params for renameConversation: .*title/s) } });
    expect(await invokeHostApi(host.api, "dropDatabase", undefined)).toMatchObject({ ok: false, error: { code: "UNKNOWN_METHOD" } });
  });
});

describe("parseWindowCall", () => {
  it("reads missing params as {} for every method without required params", () => {
    expect(parseWindowCall("getEngineStatus", undefined)).toEqual({ ok: true, method: "getEngineStatus", params: {} });
    expect(parseWindowCall("readLogTail", undefined)).toEqual({ ok: false, error: { code: "BAD_REQUEST", message: "readLogTail needs params (log), but the call has none." } });
  });
});
