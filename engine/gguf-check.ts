import { open, stat } from "node:fs/promises";
import { EngineFailure } from "./errors.js";

const GGUF_MAGIC = "GGUF";
const SUPPORTED_VERSIONS = new Set([2, 3]);

/**
 * Checks that a path is a readable GGUF file before llama.cpp sees it: llama.cpp's own errors for a wrong file are
 * vague ("failed to load model"), and a user who picked the wrong file deserves to be told which file and why.
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
  return { sizeBytes, version };
}
