/**
 * The environment handed to the engine process. Only an allow-list passes: the engine needs paths, locale and its
 * own knobs, never the host's secrets or variables that change how the runtime itself behaves (NODE_OPTIONS could
 * inject code; ELECTRON_RUN_AS_NODE would turn an Electron binary into a plain Node with full access).
 */
const ALLOWED_NAMES = new Set([
  "PATH",
  "HOME",
  "USERPROFILE",
  "APPDATA",
  "LOCALAPPDATA",
  "TMPDIR",
  "TEMP",
  "TMP",
  "LANG",
  "LC_ALL",
  "SYSTEMROOT",
  "WINDIR",
  // GPU runtimes are found through these: without them a CUDA or Vulkan install outside the default paths (or a
  // user's choice of device) would silently fall back to the CPU.
  "LD_LIBRARY_PATH",
  "VULKAN_SDK",
]);
const ALLOWED_PREFIXES = ["XDG_", "NODE_LLAMA_CPP_", "TANDEM_", "CUDA_", "HIP_", "ROCR_", "GGML_", "VK_"];
const ALWAYS_DENIED = new Set(["ELECTRON_RUN_AS_NODE", "NODE_OPTIONS"]);

/** Whether a variable may reach the engine. Case-insensitive, because Windows spells them `Path`, `SystemRoot`… */
export function isAllowedEngineEnvName(name: string): boolean {
  const upper = name.toUpperCase();
  if (ALWAYS_DENIED.has(upper)) return false;
  return ALLOWED_NAMES.has(upper) || ALLOWED_PREFIXES.some((prefix) => upper.startsWith(prefix));
}

export function sanitizeEngineEnv(source: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value !== undefined && isAllowedEngineEnvName(name)) env[name] = value;
  }
  return env;
}
