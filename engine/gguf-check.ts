import { open, stat } from "node:fs/promises";
import { EngineFailure } from "./errors.js";
import { checkGgufFile, checkLocalSplitParts, GgufHeaderError } from "./gguf/header-guard.js";

const GGUF_MAGIC = "GGUF";
const SUPPORTED_VERSIONS = new Set([2, 3]);

/**
 * Checks that a path is a readable GGUF file before llama.cpp sees it: llama.cpp's own errors for a wrong file are
 * vague ("failed to load model"), and a user who picked the wrong file deserves to be told which file and why.
 *
 * Then walks the whole header (header-guard.ts), and the headers of the other parts of a split set: every caller
 * (load, draft load, inspect, fit estimate) hands the file to node-llama-cpp's readGgufFileInfo next, which trusts
 * the header's counts and lengths, and a crafted one aborts or hangs the process. A refused header is NOT_GGUF
 * with the guard's one-line reason; its GgufHeaderError is the failure's `cause` (inspect tells "truncated" by it).
 */
export async function assertGgufFile(path: string): Promise<{ sizeBytes: number; version: number }> {
  let sizeBytes: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new EngineFailure("NOT_GGUF", `${path} is not a file`);
    sizeBytes = info.size;
  } catch (error) {
    if (error instanceof EngineFailure) throw error;
    throw new EngineFailure("MODEL_NOT_FOUND", `Model file not found: ${path}`);
  }
  const header = Buffer.alloc(8);
  const file = await open(path, "r");
  let bytesRead: number;
  try {
    ({ bytesRead } = await file.read(header, 0, 8, 0));
  } finally {
    await file.close();
  }
  if (bytesRead < 8) {
    throw new EngineFailure("NOT_GGUF", `${path} is not a GGUF model: the file is only ${sizeBytes} bytes long`);
  }
  const magic = header.subarray(0, 4).toString("latin1");
  if (magic !== GGUF_MAGIC) {
    throw new EngineFailure("NOT_GGUF", `${path} is not a GGUF model (it does not start with the "GGUF" signature)`);
  }
  const version = header.readUInt32LE(4);
  if (!SUPPORTED_VERSIONS.has(version)) {
    throw new EngineFailure("NOT_GGUF", `${path} is GGUF version ${version}; only versions 2 and 3 are supported`);
  }
  try {
    await checkGgufFile(path);
    await checkLocalSplitParts(path);
  } catch (error) {
    const failure = new EngineFailure(
      "NOT_GGUF",
      error instanceof GgufHeaderError ? error.message : `${path} cannot be read: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}`,
    );
    failure.cause = error;
    throw failure;
  }
  return { sizeBytes, version };
}
