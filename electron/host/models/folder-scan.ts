/**
 * The models folder: which GGUF files the user can choose from. Listing is non-recursive and forgiving (a missing
 * folder is just empty); choosing a folder is strict (it must exist and be a directory).
 */
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { ModelFile } from "../../../contracts/window/index.js";
import { apiError } from "../errors.js";

/** The `*.gguf` files directly in `folder`, by name; [] when the folder does not exist. */
export async function listModelFiles(folder: string): Promise<ModelFile[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  const models: ModelFile[] = [];
  for (const name of names) {
    if (!name.toLowerCase().endsWith(".gguf")) continue;
    const path = join(folder, name);
    try {
      const info = await stat(path);
      if (info.isFile()) models.push({ path, name, sizeBytes: info.size, modifiedAt: info.mtimeMs });
    } catch {
      // Deleted between readdir and stat, or a dangling symlink: not a usable model.
    }
  }
  return models.sort((a, b) => a.name.localeCompare(b.name));
}

/** Checks that `path` is an existing directory and returns it absolute; throws a user-facing error otherwise. */
export async function validateModelsFolder(path: string): Promise<string> {
  const folder = resolve(path.trim());
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(folder)).isDirectory();
  } catch (error) {
    if (isNotFound(error)) throw apiError("NOT_FOUND", `The folder "${folder}" does not exist.`);
    throw apiError("BAD_REQUEST", `The folder "${folder}" cannot be read.`);
  }
  if (!isDirectory) throw apiError("BAD_REQUEST", `"${folder}" is a file, not a folder.`);
  return folder;
}

/** Checks that a model file exists before the engine is asked to load it. */
export async function validateModelFile(path: string): Promise<string> {
  const file = resolve(path.trim());
  let isFile: boolean;
  try {
    isFile = (await stat(file)).isFile();
  } catch {
    throw apiError("MODEL_NOT_FOUND", `The model file "${file}" does not exist.`);
  }
  if (!isFile) throw apiError("MODEL_NOT_FOUND", `"${file}" is not a model file.`);
  return file;
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && "code" in error && (error.code === "ENOENT" || error.code === "ENOTDIR");
}
