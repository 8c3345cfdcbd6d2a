/**
 * The window's estimateFit: fills in the configured model, draft and settings, turns an `hf:` reference into its
 * download URL (with the Hugging Face token as a Bearer header, for Hugging Face URLs only), and asks the engine,
 * which reads only the GGUF headers.
 */
import type { EngineRequestParams } from "../../../contracts/engine/protocol.js";
import type { WindowParams, WindowResult } from "../../../contracts/window/index.js";
import { HF_BASE_URL, HfError, isHfRef, resolveHf } from "../downloads/hf.js";
import { apiError, toTandemApiError } from "../errors.js";
import type { HostContext } from "../host-context.js";
import { validateModelFile } from "./folder-scan.js";

export interface FitOptions {
  /** Hugging Face base URL (default $HF_ENDPOINT or https://huggingface.co), read at each request. */
  hfBaseUrl?: () => string;
  /** The Hugging Face token, read at each request (null: none). */
  hfToken?: () => Promise<string | null>;
}

export const NO_MODEL_TO_ESTIMATE =
  "No model is configured: choose a model (or give a library path, hf: reference or URL) to estimate its memory.";

/** Remote header reads retry a little; a slow server still answers within this. */
const ESTIMATE_TIMEOUT_MS = 90_000;

export async function estimateFit(
  ctx: HostContext,
  params: WindowParams<"estimateFit">,
  options: FitOptions = {},
): Promise<WindowResult<"estimateFit">> {
  const settings = ctx.store().getSettings();
  const source = params.source ?? settings.modelPath;
  if (!source) throw apiError("BAD_REQUEST", NO_MODEL_TO_ESTIMATE);
  const draftSource = params.draftSource === undefined ? settings.draftModelPath : params.draftSource;

  const baseUrl = options.hfBaseUrl?.() ?? (process.env.HF_ENDPOINT || HF_BASE_URL);
  const token = (await options.hfToken?.()) ?? null;
  const modelPath = await resolveSource(source, baseUrl, token);
  const draftPath = draftSource ? await resolveSource(draftSource, baseUrl, token) : null;
  const request: EngineRequestParams<"estimateFit"> = {
    modelPath,
    draftPath,
    contextSize: params.contextSize ?? settings.contextSize,
    cacheSlots: params.cacheSlots ?? settings.cacheSlots,
    gpuLayers: params.gpuLayers,
  };
  // The token goes only to the Hugging Face host: a URL elsewhere never sees it.
  if (token && [modelPath, draftPath].some((url) => url !== null && sameOrigin(url, baseUrl))) {
    request.headers = { Authorization: `Bearer ${token}` };
  }

  const { supervisor } = ctx;
  // An estimate asked for while the engine is (re)starting waits for it instead of failing.
  if (supervisor.state === "starting" || supervisor.state === "restarting") await supervisor.whenSettled();
  if (supervisor.state !== "ready") {
    throw apiError("ENGINE_UNAVAILABLE", "The engine is not running, so the memory estimate cannot be made. Restart the engine and try again.");
  }
  try {
    return await supervisor.request("estimateFit", request, { timeoutMs: ESTIMATE_TIMEOUT_MS });
  } catch (error) {
    throw toTandemApiError(error);
  }
}

/** A library path (checked to exist), an http(s) URL (as is) or an `hf:` reference (resolved to its URL). */
async function resolveSource(source: string, baseUrl: string, token: string | null): Promise<string> {
  if (/^https?:\/\//i.test(source)) return source;
  if (isHfRef(source)) {
    try {
      const files = await resolveHf(source, { baseUrl, token: token ?? undefined });
      // A split set's first part: its header names the others, which node-llama-cpp reads too.
      return files[0]!.url;
    } catch (error) {
      if (error instanceof HfError) throw apiError("REMOTE_READ_FAILED", `Could not resolve ${source}: ${error.message}`);
      throw error;
    }
  }
  return validateModelFile(source);
}

function sameOrigin(url: string, base: string): boolean {
  try {
    return new URL(url).origin === new URL(base).origin;
  } catch {
    return false;
  }
}
