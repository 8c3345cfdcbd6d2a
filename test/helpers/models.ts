import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The shared models live beside the repository (../shared/models), or where TANDEM_SHARED_MODELS points. */
export const sharedModelsDir = process.env.TANDEM_SHARED_MODELS ?? path.resolve(repoRoot, "../shared/models");

/**
 * Path of a shared model, or a loud failure: the integration tests exist to run the real model, so a missing
 * model must fail the run (in CI too), never skip it silently.
 */
export function sharedModel(name: "kjv-chat-6m.gguf" | "kjv-chat-draft-1m.gguf"): string {
  const file = path.join(sharedModelsDir, name);
  if (!existsSync(file)) {
    throw new Error(`Shared model missing: ${file}. The integration tests need ../shared/models (see README).`);
  }
  return file;
}

export const targetModel = () => sharedModel("kjv-chat-6m.gguf");
export const repoPath = (...parts: string[]) => path.join(repoRoot, ...parts);

/** Threads for the real model in tests: 1 is fastest for the 6M KJV model on these 2-vCPU machines (measured). */
export const TEST_THREADS = 1;
