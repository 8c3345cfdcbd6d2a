import os from "node:os";
import { getLlama, LlamaLogLevel, type Llama, type LlamaOptions } from "node-llama-cpp";
import { nodeLlamaCppVersion } from "./node-llama-cpp-version.js";
import type { Backend, GpuChoice, SystemInfo } from "../contracts/engine/protocol.js";


export type LogSink = (level: "debug" | "info" | "warn" | "error", message: string) => void;

/** The slice of node-llama-cpp's `getLlama` the backend needs; injectable so GPU paths can be tested with fakes. */
export type GetLlama = (options: LlamaOptions) => Promise<Llama>;

export interface InitialisedBackend {
  llama: Llama;
  backend: Backend;
  gpuRequested: GpuChoice;
  backendNote?: string;
}

function toLlamaGpuOption(choice: GpuChoice): LlamaOptions["gpu"] {
  return choice === "cpu" ? false : choice;
}

function backendOf(llama: Llama): Backend {
  return llama.gpu === false ? "cpu" : llama.gpu;
}

function llamaLogger(log: LogSink): LlamaOptions["logger"] {
  return (level, message) => {
    const text = message.trimEnd();
    if (text === "") return;
    if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) log("error", text);
    else if (level === LlamaLogLevel.warn) log("warn", text);
  };
}

/**
 * Initialises llama.cpp with the requested backend.
 *
 * `build: "never"`: an app must never start compiling llama.cpp on a user's machine (no toolchain, minutes of CPU,
 * and a download that may be blocked); prebuilt binaries cover CPU, CUDA, Vulkan and Metal.
 * A specific GPU backend that cannot load falls back to the CPU with a note saying why, rather than leaving the
 * user with no engine at all.
 */
export async function initBackend(gpu: GpuChoice, log: LogSink, load: GetLlama = getLlama): Promise<InitialisedBackend> {
  const common: LlamaOptions = { build: "never", logLevel: LlamaLogLevel.warn, logger: llamaLogger(log), progressLogs: false };
  try {
    const llama = await load({ ...common, gpu: toLlamaGpuOption(gpu) });
    const backend = backendOf(llama);
    const note =
      gpu !== "auto" && gpu !== backend ? `${gpu} was requested but ${backend} is in use` : undefined;
    return { llama, backend, gpuRequested: gpu, backendNote: note };
  } catch (error) {
    if (gpu === "cpu") throw error;
    const reason = error instanceof Error ? error.message : String(error);
    log("warn", `GPU backend "${gpu}" failed to initialise (${reason}); falling back to CPU`);
    const llama = await load({ ...common, gpu: false });
    return { llama, backend: "cpu", gpuRequested: gpu, backendNote: `${gpu} is not available: ${reason}. Using the CPU.` };
  }
}

export async function describeSystem(init: InitialisedBackend): Promise<SystemInfo> {
  const { llama } = init;
  const [devices, vram] = await Promise.all([llama.getGpuDeviceNames(), llama.getVramState()]);
  const cpus = os.cpus();
  return {
    backend: init.backend,
    gpuRequested: init.gpuRequested,
    ...(init.backendNote ? { backendNote: init.backendNote } : {}),
    devices,
    vram: { total: vram.total, used: vram.used, free: vram.free },
    ram: { total: os.totalmem(), free: os.freemem() },
    cpu: { model: cpus[0]?.model.trim() ?? "unknown", cores: os.availableParallelism() },
    llamaCppRelease: llama.llamaCppRelease.release,
    nodeLlamaCppVersion: nodeLlamaCppVersion(),
  };
}
