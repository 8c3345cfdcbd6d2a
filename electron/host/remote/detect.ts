/**
 * Which kind of server a base URL is, from cheap GETs. First `/v1/models` (it also gives the model list, and fails
 * with the real reason: unreachable, wrong key): its `owned_by` names three servers in their own source —
 * llama.cpp `tools/server/server-context.cpp` `{"owned_by", "llamacpp"}`, vLLM
 * `vllm/entrypoints/openai/.../protocol.py` `owned_by: str = "vllm"`, SGLang
 * `sglang/srt/entrypoints/openai/protocol.py` `owned_by: str = "sglang"`. Then each server's own endpoint, all at
 * once, in this order of trust:
 *
 * | kind         | probe                | what identifies it                                          |
 * |--------------|----------------------|-------------------------------------------------------------|
 * | llama-server | GET /props           | JSON with `build_info` (and `default_generation_settings`)   |
 * | ollama       | GET /api/version     | JSON `{"version": "…"}`                                       |
 * | lmstudio     | GET /api/v0/models   | JSON list whose entries have `type`/`state`/`compatibility_type` |
 * | sglang       | GET /server_info, /get_server_info | JSON with `speculative_algorithm` or `tp_size` (server args) |
 * | vllm         | GET /version         | JSON `{"version": "…"}` (also Ollama's shape: Ollama wins)   |
 *
 * Anything else is "openai" (generic).
 */
import type { RemoteKind } from "../../../contracts/window/domain.js";
import { RemoteError } from "./errors.js";
import type { OpenAiClient, RemoteModel } from "./openai-client.js";

export interface Detection {
  kind: RemoteKind;
  /** The server's version as it reports it (llama-server: its build_info), or null. */
  version: string | null;
  models: string[];
  /** The raw listing (id and owned_by), for callers that want the owners. */
  listing: RemoteModel[];
}

const OWNERS: Record<string, RemoteKind> = { llamacpp: "llama-server", vllm: "vllm", sglang: "sglang" };
const PROBE_TIMEOUT_MS = 5_000;

type Probe = { status: number; json: Record<string, unknown> | null } | null;

async function probe(client: OpenAiClient, path: string, signal?: AbortSignal): Promise<Probe> {
  try {
    const answer = await client.get(path, { timeoutMs: PROBE_TIMEOUT_MS, signal });
    let json: Record<string, unknown> | null = null;
    try {
      const parsed: unknown = JSON.parse(answer.body);
      json = parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : null;
    } catch {
      json = null;
    }
    return { status: answer.status, json: answer.ok ? json : null };
  } catch (error) {
    if (error instanceof RemoteError && error.code === "aborted") throw error;
    return null;
  }
}

const str = (value: unknown): string | null => (typeof value === "string" && value ? value : null);

/**
 * Detects the kind (or takes `forced`), the version where the server reports it, and the models. Throws the
 * RemoteError of `/v1/models` when the server cannot be reached or refuses the key.
 */
export async function detectRemote(client: OpenAiClient, options: { forced?: RemoteKind; signal?: AbortSignal } = {}): Promise<Detection> {
  const { signal } = options;
  const listing = await client.listModels(signal);
  const models = listing.map((m) => m.id);
  const owned = listing.map((m) => (m.ownedBy ? OWNERS[m.ownedBy] : undefined)).find((k) => k !== undefined);
  const kind = options.forced ?? owned ?? (await probeKind(client, signal));
  return { kind, version: await versionOf(client, kind, signal), models, listing };
}

async function probeKind(client: OpenAiClient, signal?: AbortSignal): Promise<RemoteKind> {
  const [props, ollama, lmstudio, serverInfo, getServerInfo, version] = await Promise.all(
    ["/props", "/api/version", "/api/v0/models", "/server_info", "/get_server_info", "/version"].map((path) => probe(client, path, signal)),
  );
  if (props?.json && ("build_info" in props.json || "default_generation_settings" in props.json)) return "llama-server";
  if (ollama?.json && str(ollama.json.version)) return "ollama";
  const lmData = lmstudio?.json?.data;
  if (Array.isArray(lmData) && lmData.some((m) => m && typeof m === "object" && ("compatibility_type" in m || "state" in m))) return "lmstudio";
  for (const info of [serverInfo, getServerInfo]) {
    if (info?.json && ("speculative_algorithm" in info.json || "tp_size" in info.json || "model_path" in info.json)) return "sglang";
  }
  if (version?.json && str(version.json.version)) return "vllm";
  return "openai";
}

async function versionOf(client: OpenAiClient, kind: RemoteKind, signal?: AbortSignal): Promise<string | null> {
  switch (kind) {
    case "llama-server":
      return str((await probe(client, "/props", signal))?.json?.build_info);
    case "ollama":
      return str((await probe(client, "/api/version", signal))?.json?.version);
    case "vllm":
      return str((await probe(client, "/version", signal))?.json?.version);
    case "sglang": {
      for (const path of ["/server_info", "/get_server_info"]) {
        const version = str((await probe(client, path, signal))?.json?.version);
        if (version) return version;
      }
      return null;
    }
    default:
      return null;
  }
}

/** "Connected: 3 models" (with the kind and version), for the connection test. */
export function describeDetection(detection: Detection): string {
  const names: Record<RemoteKind, string> = {
    vllm: "vLLM",
    sglang: "SGLang",
    "llama-server": "llama-server",
    ollama: "Ollama",
    lmstudio: "LM Studio",
    openai: "an OpenAI-compatible server",
  };
  const count = detection.models.length;
  const version = detection.version ? ` ${detection.version}` : "";
  return `Connected: ${count} model${count === 1 ? "" : "s"} (${names[detection.kind]}${version})`;
}
