/** Which load failures are memory failures, and the OUT_OF_MEMORY error they become. */
import { InsufficientMemoryError } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { EngineFailure } from "../../engine/errors.js";
import { asOutOfMemory, isOutOfMemoryError } from "../../engine/memory-errors.js";

describe("isOutOfMemoryError", () => {
  it("recognises node-llama-cpp's InsufficientMemoryError and llama.cpp's allocation failures", () => {
    expect(isOutOfMemoryError(new InsufficientMemoryError("A context size of 8192 is too large for the available RAM"))).toBe(true);
    for (const message of [
      "Failed to create context",
      "ggml_backend_cpu_buffer_type_alloc_buffer: failed to allocate buffer of size 4294967296",
      "CUDA error: out of memory",
      "vk::Device::allocateMemory: ErrorOutOfDeviceMemory",
      "std::bad_alloc",
      "Not enough VRAM to fit the model with the specified settings",
    ]) {
      expect(isOutOfMemoryError(new Error(message)), message).toBe(true);
    }
  });

  it("leaves other failures alone, including llama.cpp's vague 'Failed to load model'", () => {
    for (const message of ["Failed to load model", "unknown model architecture: 'foo'", "ENOENT: no such file"]) {
      expect(isOutOfMemoryError(new Error(message)), message).toBe(false);
    }
    expect(isOutOfMemoryError(undefined)).toBe(false);
  });
});

describe("asOutOfMemory", () => {
  it("turns a memory failure into OUT_OF_MEMORY naming what and suggesting smaller settings", () => {
    const failure = asOutOfMemory(new Error("Failed to create context"), "a 8192-token context with 4 cache slots");
    expect(failure).toBeInstanceOf(EngineFailure);
    expect((failure as EngineFailure).code).toBe("OUT_OF_MEMORY");
    expect((failure as EngineFailure).message).toBe(
      "Not enough memory for a 8192-token context with 4 cache slots (Failed to create context). Try a smaller context size, fewer cache slots or fewer GPU layers (or a smaller model).",
    );
  });

  it("returns other errors and engine failures unchanged", () => {
    const other = new Error("unknown model architecture");
    expect(asOutOfMemory(other, "x")).toBe(other);
    const engineFailure = new EngineFailure("DRAFT_INCOMPATIBLE", "Failed to create context? no: tokenizers differ");
    expect(asOutOfMemory(engineFailure, "x")).toBe(engineFailure);
  });
});
