/**
 * The window API's Hugging Face Hub search: GGUF model repos by name and a repo's GGUF files, through the Hub API
 * (downloads/hf.ts). Failures become HUB_FAILED errors whose message says what happened (offline, gated, not
 * found, rate limited…).
 */
import type { HubFile, HubModel } from "../../../contracts/window/index.js";
import { HF_BASE_URL, HfError, listHubGgufFiles, searchHubModels } from "./hf.js";
import { apiError } from "../errors.js";

export interface HubOptions {
  /** Hugging Face base URL (default $HF_ENDPOINT or https://huggingface.co), read at each request. */
  baseUrl?: () => string;
  /** The token to send (gated repos, higher rate limits), read at each request. */
  token?: () => Promise<string | null | undefined>;
  fetch?: typeof fetch;
}

export class Hub {
  constructor(private readonly options: HubOptions = {}) {}

  async search(query: string, limit = 20): Promise<HubModel[]> {
    return this.wrap(() => searchHubModels(query, { ...this.request(), limit }));
  }

  async listFiles(repo: string): Promise<HubFile[]> {
    return this.wrap(() => listHubGgufFiles(repo, this.request()));
  }

  private request() {
    return {
      baseUrl: this.options.baseUrl?.() ?? (process.env.HF_ENDPOINT || HF_BASE_URL),
      token: this.options.token ?? (async () => process.env.HF_TOKEN || null),
      fetch: this.options.fetch,
    };
  }

  private async wrap<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof HfError) throw apiError(error.kind === "bad-name" ? "BAD_REQUEST" : "HUB_FAILED", error.message);
      throw error;
    }
  }
}
