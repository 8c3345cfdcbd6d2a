/** Kind detection from each server's recorded answers (fixtures/ name the versions): owned_by first, then probes. */
import { afterEach, describe, expect, it } from "vitest";
import { describeDetection, detectRemote } from "../../../../electron/host/remote/detect.js";
import { OpenAiClient } from "../../../../electron/host/remote/openai-client.js";
import { json, startFakeServer, type FakeServer } from "./fake-server.js";
import * as llama from "./fixtures/llama-server.js";
import * as lmstudio from "./fixtures/lmstudio.js";
import * as ollama from "./fixtures/ollama.js";
import * as sglang from "./fixtures/sglang.js";
import * as vllm from "./fixtures/vllm.js";

let server: FakeServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function detect(routes: Parameters<typeof startFakeServer>[0], forced?: Parameters<typeof detectRemote>[1]) {
  server = await startFakeServer(routes);
  return detectRemote(new OpenAiClient({ baseUrl: `${server.url}/v1` }), forced);
}

describe("detectRemote", () => {
  it("llama-server: owned_by llamacpp, version from /props build_info", async () => {
    const d = await detect({ "/v1/models": json(200, llama.models), "/props": json(200, llama.props) });
    expect(d).toMatchObject({ kind: "llama-server", version: "b1-80fb11a", models: [llama.MODEL] });
    expect(describeDetection(d)).toBe("Connected: 1 model (llama-server b1-80fb11a)");
  });

  it(`vLLM ${vllm.VLLM_VERSION}: owned_by vllm, version from /version`, async () => {
    const d = await detect({ "/v1/models": json(200, vllm.models), "/version": json(200, vllm.version) });
    expect(d).toMatchObject({ kind: "vllm", version: vllm.VLLM_VERSION, models: [vllm.MODEL] });
  });

  it("SGLang: owned_by sglang, version from /server_info or the older /get_server_info", async () => {
    expect(await detect({ "/v1/models": json(200, sglang.models), "/get_server_info": json(200, sglang.serverInfo) })).toMatchObject({ kind: "sglang", version: "sample-version" });
    await server!.close();
    // A listing without owned_by: the server_info probe tells.
    const bare = { object: "list", data: [{ id: sglang.MODEL, object: "model" }] };
    expect(await detect({ "/v1/models": json(200, bare), "/server_info": json(200, sglang.serverInfo) })).toMatchObject({ kind: "sglang" });
  });

  it("Ollama by /api/version, LM Studio by /api/v0/models, anything else generic", async () => {
    expect(await detect({ "/v1/models": json(200, ollama.models), "/api/version": json(200, ollama.version), "/version": json(200, ollama.version) })).toMatchObject({
      kind: "ollama",
      version: "0.5.1",
      models: [ollama.MODEL],
    });
    await server!.close();
    expect(await detect({ "/v1/models": json(200, lmstudio.models), "/api/v0/models": json(200, lmstudio.v0Models) })).toMatchObject({ kind: "lmstudio", version: null });
    await server!.close();
    const three = { object: "list", data: [{ id: "a" }, { id: "b" }, { id: "c", owned_by: "someone" }] };
    const d = await detect({ "/v1/models": json(200, three) });
    expect(d).toMatchObject({ kind: "openai", models: ["a", "b", "c"] });
    expect(describeDetection(d)).toBe("Connected: 3 models (an OpenAI-compatible server)");
  });

  it("a chosen kind is kept; a wrong key fails with the auth error", async () => {
    expect(await detect({ "/v1/models": json(200, { data: [{ id: "x" }] }) }, { forced: "vllm" })).toMatchObject({ kind: "vllm" });
    await server!.close();
    await expect(detect({ "/v1/models": json(401, { error: { message: "Invalid API Key" } }) })).rejects.toMatchObject({ code: "auth" });
  });
});
