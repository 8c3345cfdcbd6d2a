/**
 * The models folder with each file's GGUF facts (read from the header, no weights loaded), cached by path, size
 * and modification time so a rescan only reads files that changed. Also pairs drafts with a target by tokenizer.
 */
import { stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { compatibleDrafts, GgufInspectError, inspectGgufWithTokenizer, type GgufFacts } from "../../../engine/gguf/inspect.js";
import type { TokenizerFacts } from "../../../engine/speculation/tokenizer-compat.js";
import type { DraftCandidate, ModelFile } from "../../../contracts/window/index.js";
import { apiError } from "../errors.js";
import { listModelFiles } from "./folder-scan.js";

interface Inspected {
  key: string;
  facts: GgufFacts | null;
  error: string | null;
  tokenizer: TokenizerFacts | null;
}

const SPLIT_PART = /-(\d{5})-of-(\d{5})\.gguf$/i;

export class GgufFactsCache {
  private readonly cache = new Map<string, Inspected>();
  /** How many files were read (not served from the cache); for tests. */
  reads = 0;

  /** The folder's GGUF files with their facts; the later parts of a split set are folded into its first part. */
  async list(folder: string): Promise<ModelFile[]> {
    const files = await listModelFiles(folder);
    const names = new Set(files.map((f) => f.name));
    const shown = files.filter((f) => {
      const match = SPLIT_PART.exec(f.name);
      if (!match || match[1] === "00001") return true;
      return !names.has(f.name.replace(SPLIT_PART, `-00001-of-${match[2]}.gguf`));
    });
    const listed: ModelFile[] = [];
    for (const file of shown) listed.push(withFacts(file, await this.inspect(file)));
    this.forgetMissing(files);
    return listed;
  }

  /** Every library folder's files (main folder first), each with the folder it is in. */
  async listFolders(folders: readonly string[]): Promise<ModelFile[]> {
    const listed: ModelFile[] = [];
    for (const folder of folders) {
      for (const file of await this.list(folder)) listed.push({ ...file, folder });
    }
    return listed;
  }

  /**
   * The folders' files as drafts for `targetPath`: compatible when the tokenizers match (else the first
   * difference), smallest first, the smallest compatible one recommended.
   */
  async compatibleDrafts(folders: string | readonly string[], targetPath: string): Promise<DraftCandidate[]> {
    const target = await this.inspectPath(resolve(targetPath));
    if (!target.facts || !target.tokenizer) {
      throw apiError("NOT_GGUF", target.error ?? `The model "${basename(targetPath)}" cannot be read.`);
    }
    const files = (await this.listFolders(typeof folders === "string" ? [folders] : folders)).filter((f) => f.error === undefined);
    const inputs = [];
    for (const file of files) {
      const inspected = await this.inspect(file);
      if (inspected.facts && inspected.tokenizer) {
        inputs.push({ path: file.path, sizeBytes: inspected.facts.sizeBytes, parameters: inspected.facts.parameters, tokenizer: inspected.tokenizer });
      }
    }
    const byPath = new Map(inputs.map((i) => [i.path, i]));
    const targetInput = { path: resolve(targetPath), sizeBytes: target.facts.sizeBytes, parameters: target.facts.parameters, tokenizer: target.tokenizer };
    return compatibleDrafts(targetInput, inputs).map((p) => {
      const input = byPath.get(p.path)!;
      return {
        path: p.path,
        name: basename(p.path),
        sizeBytes: input.sizeBytes,
        parameters: input.parameters,
        compatible: p.compatible,
        reason: p.recommended ? "The smallest compatible draft." : p.reason,
        recommended: p.recommended,
      };
    });
  }

  private async inspectPath(path: string): Promise<Inspected> {
    try {
      const info = await stat(path);
      return await this.inspect({ path, sizeBytes: info.size, modifiedAt: info.mtimeMs });
    } catch {
      throw apiError("MODEL_NOT_FOUND", `The model file "${path}" does not exist.`);
    }
  }

  private async inspect(file: Pick<ModelFile, "path" | "sizeBytes" | "modifiedAt">): Promise<Inspected> {
    const key = `${file.sizeBytes}:${file.modifiedAt}`;
    const cached = this.cache.get(file.path);
    if (cached && cached.key === key) return cached;
    this.reads++;
    let entry: Inspected;
    try {
      const { facts, tokenizer } = await inspectGgufWithTokenizer(file.path);
      entry = { key, facts, error: null, tokenizer };
    } catch (error) {
      // Whatever one file throws becomes that file's error: a bad file must never fail the whole list.
      entry = { key, facts: null, error: failureMessage(error, file.path), tokenizer: null };
    }
    this.cache.set(file.path, entry);
    return entry;
  }

  private forgetMissing(files: ModelFile[]): void {
    const present = new Set(files.map((f) => f.path));
    const folders = new Set(files.map((f) => resolve(f.path, "..")));
    for (const path of this.cache.keys()) {
      if (folders.has(resolve(path, "..")) && !present.has(path)) this.cache.delete(path);
    }
  }
}

/**
 * One line for a file's failure, the path shortened to its name. Safe for anything thrown: a value whose string
 * conversion itself throws (an object without a prototype, a throwing toString) would otherwise escape the catch
 * and reject the whole listing.
 */
function failureMessage(error: unknown, path: string): string {
  let message = "";
  try {
    message = error instanceof GgufInspectError ? error.message : error instanceof Error ? String(error.message) : String(error);
  } catch {
    // fall through to the generic reason
  }
  const line = message.split("\n")[0].trim();
  return line ? line.replaceAll(path, basename(path)) : "This file cannot be read.";
}

function withFacts(file: ModelFile, inspected: Inspected): ModelFile {
  const f = inspected.facts;
  if (!f) return { ...file, error: inspected.error ?? "This file cannot be read." };
  return {
    ...file,
    sizeBytes: f.sizeBytes,
    architecture: f.architecture,
    parameters: f.parameters,
    quantization: f.quantization,
    ...(f.contextLength !== null ? { contextLength: f.contextLength } : {}),
    tokenizer: f.tokenizer,
    vocabSize: f.vocabSize,
    hasChatTemplate: f.hasChatTemplate,
    ...(f.chatWrapper ?? f.chatTemplateFirstLine ? { chatTemplate: (f.chatWrapper ?? f.chatTemplateFirstLine)! } : {}),
    specialTokens: { bos: f.specialTokens.bos, eos: f.specialTokens.eos, eot: f.specialTokens.eot },
    ...(f.split ? { splitParts: f.split.parts, missingParts: f.split.missingParts } : {}),
  };
}
