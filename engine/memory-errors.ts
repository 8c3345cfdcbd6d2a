import { InsufficientMemoryError } from "node-llama-cpp";
import { EngineFailure } from "./errors.js";

/**
 * Whether a model or context load failed for lack of memory. node-llama-cpp throws InsufficientMemoryError when its
 * own estimate says a configuration cannot fit; llama.cpp's allocation failures surface as "Failed to create context"
 * (a context's init fails when its KV cache or compute buffers cannot be allocated) or as the backend's own words
 * (CUDA "out of memory", Vulkan ErrorOutOfDeviceMemory, "failed to allocate … buffer", std::bad_alloc).
 * "Failed to load model" alone is not counted: a corrupt file says the same.
 */
const MEMORY_MESSAGE =
  /insufficient memory|out of (device )?memory|outofdevicememory|failed to allocate|unable to allocate|cannot allocate memory|bad_alloc|not enough (v?ram|memory)|too large for the available|failed to create context/i;

export function isOutOfMemoryError(error: unknown): boolean {
  if (error instanceof InsufficientMemoryError) return true;
  if (!(error instanceof Error)) return typeof error === "string" && MEMORY_MESSAGE.test(error);
  if (error.name === "InsufficientMemoryError" || error.constructor.name === "InsufficientMemoryError") return true;
  return MEMORY_MESSAGE.test(error.message);
}

/** The advice every out-of-memory message ends with. */
export const OUT_OF_MEMORY_ADVICE = "Try a smaller context size, fewer cache slots or fewer GPU layers (or a smaller model).";

/**
 * A memory failure as OUT_OF_MEMORY naming what could not be allocated ("the draft model's 4096-token context");
 * anything else (an EngineFailure already, another error) is returned unchanged.
 */
export function asOutOfMemory(error: unknown, what: string): unknown {
  if (error instanceof EngineFailure || !isOutOfMemoryError(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new EngineFailure("OUT_OF_MEMORY", `Not enough memory for ${what} (${reason}). ${OUT_OF_MEMORY_ADVICE}`);
}
