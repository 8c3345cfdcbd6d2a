/**
 * Hugging Face references: `hf:user/repo/path/file.gguf` (a file) or `hf:user/repo:Q4_K_M` (the repo's GGUF of that
 * quantization, found through the tree API), optionally with a revision `hf:user/repo@rev/...`. Resolves to download
 * URLs (`<base>/<repo>/resolve/<rev>/<path>`) with the size and SHA-256 that the tree API's `lfs` entries give.
 */
import path from "node:path";
import { z } from "zod";
import type { HubFile, HubModel } from "../../../contracts/window/index.js";
import { cantReachMessage } from "./network-words.js";

export const HF_BASE_URL = "https://huggingface.co";

/** Why a Hub request failed (set by the Hub API calls: search, file listing). */
export type HubFailure = "bad-name" | "offline" | "access-denied" | "not-found" | "rate-limited" | "bad-answer" | "http";

export class HfError extends Error {
  constructor(
    message: string,
    readonly kind?: HubFailure,
  ) {
    super(message);
    this.name = "HfError";
  }
}

export interface HfRef {
  repo: string;
  revision: string;
  /** A file inside the repo… */
  path?: string;
  /** …or a quantization to choose from the repo's GGUF files. */
  quant?: string;
}

export interface HfFile {
  url: string;
  /** Path inside the repo. */
  path: string;
  /** Name to save under (the path's last segment). */
  fileName: string;
  size?: number;
  sha256?: string;
}

export const HfTreeEntry = z.object({
  type: z.string(),
  path: z.string(),
  oid: z.string().optional(),
  size: z.number().optional(),
  lfs: z.object({ oid: z.string(), size: z.number(), pointerSize: z.number().optional() }).nullish(),
});
export type HfTreeEntry = z.infer<typeof HfTreeEntry>;
export const HfTree = z.array(HfTreeEntry);

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const isHfRef = (s: string): boolean => s.startsWith("hf:");

export function parseHfRef(ref: string): HfRef {
  if (!isHfRef(ref)) throw new HfError(`not a Hugging Face reference (expected hf:user/repo/file.gguf or hf:user/repo:QUANT): ${ref}`);
  const body = ref.slice(3).replace(/^\/+/, "");
  const usage = `expected hf:user/repo/file.gguf or hf:user/repo:QUANT, got "${ref}"`;
  const parts = body.split("/");
  if (parts.length < 2) throw new HfError(usage);
  const user = parts[0];
  let second = parts[1];
  let quant: string | undefined;
  if (parts.length === 2 && second.includes(":")) {
    [second, quant] = second.split(":", 2) as [string, string];
    if (!quant) throw new HfError(usage);
  }
  let revision = "main";
  const at = second.indexOf("@");
  if (at >= 0) {
    revision = second.slice(at + 1);
    second = second.slice(0, at);
    if (!revision) throw new HfError(usage);
  }
  if (!NAME.test(user) || !NAME.test(second)) throw new HfError(usage);
  const repo = `${user}/${second}`;
  if (quant) return { repo, revision, quant };
  const filePath = parts.slice(2).join("/");
  if (!filePath) throw new HfError(`${usage} (name a file or a quantization)`);
  if (parts.slice(2).some((p) => p === "" || p === "." || p === "..")) throw new HfError(usage);
  return { repo, revision, path: filePath };
}

export function hfResolveUrl(repo: string, filePath: string, revision = "main", baseUrl = HF_BASE_URL): string {
  const encoded = filePath.split("/").map(encodeURIComponent).join("/");
  return `${baseUrl}/${repo}/resolve/${encodeURIComponent(revision)}/${encoded}`;
}

export function hfTreeUrl(repo: string, revision = "main", baseUrl = HF_BASE_URL): string {
  return `${baseUrl}/api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true`;
}

export function parseTree(json: unknown): HfTreeEntry[] {
  const parsed = HfTree.safeParse(json);
  if (!parsed.success) throw new HfError(`unexpected answer from the Hugging Face tree API: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data;
}

const SPLIT = /-(\d{5})-of-(\d{5})\.gguf$/i;
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The GGUF file (or the parts of one split set) of a quantization, e.g. "Q4_K_M". */
export function chooseQuantFiles(entries: HfTreeEntry[], quant: string, repo = "the repository"): HfTreeEntry[] {
  const ggufs = entries.filter((e) => e.type === "file" && /\.gguf$/i.test(e.path) && !/mmproj/i.test(path.posix.basename(e.path)));
  const pattern = new RegExp(`(^|[-._/])${escapeRegExp(quant)}([-./]|$)`, "i");
  const matches = ggufs.filter((e) => pattern.test(e.path));
  if (matches.length === 0) {
    const available = ggufs.map((e) => path.posix.basename(e.path)).slice(0, 12);
    throw new HfError(
      `no ${quant} GGUF file in ${repo}` + (available.length ? `; files: ${available.join(", ")}` : "; it has no GGUF files"),
    );
  }
  // Group split parts (name-00001-of-00003.gguf) into one set.
  const sets = new Map<string, HfTreeEntry[]>();
  for (const e of matches) {
    const key = e.path.replace(SPLIT, "");
    sets.set(key, [...(sets.get(key) ?? []), e]);
  }
  if (sets.size > 1)
    throw new HfError(`${quant} matches several files in ${repo}: ${[...sets.keys()].map((k) => path.posix.basename(k)).join(", ")}; name one with hf:${repo}/<file>`);
  return [...sets.values()][0].sort((a, b) => a.path.localeCompare(b.path));
}

function toFile(entry: Pick<HfTreeEntry, "path" | "lfs" | "size"> | { path: string }, repo: string, revision: string, baseUrl: string): HfFile {
  const e = entry as HfTreeEntry;
  const file: HfFile = { url: hfResolveUrl(repo, e.path, revision, baseUrl), path: e.path, fileName: path.posix.basename(e.path) };
  if (e.lfs) {
    file.size = e.lfs.size;
    if (/^[0-9a-f]{64}$/i.test(e.lfs.oid)) file.sha256 = e.lfs.oid.toLowerCase();
  } else if (e.size !== undefined) {
    file.size = e.size;
  }
  return file;
}

export interface ResolveHfOptions {
  baseUrl?: string;
  token?: string;
  fetchImpl?: typeof fetch;
  signal?: AbortSignal;
}

export async function fetchTree(repo: string, revision: string, options: ResolveHfOptions = {}): Promise<HfTreeEntry[]> {
  const { baseUrl = HF_BASE_URL, fetchImpl = fetch } = options;
  const headers: Record<string, string> = {};
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  let response: Response;
  try {
    response = await fetchImpl(hfTreeUrl(repo, revision, baseUrl), { headers, signal: options.signal });
  } catch (error) {
    throw new HfError(cantReachMessage(baseUrl, error, true), "offline");
  }
  if (response.status === 404) throw new HfError(`not found: repository ${repo} (revision ${revision}) on ${baseUrl}`);
  if (response.status === 401 || response.status === 403)
    throw new HfError(`access denied: the repository ${repo} may be gated or private; set a Hugging Face token`);
  if (!response.ok) throw new HfError(`the Hugging Face API answered HTTP ${response.status} for ${repo}`);
  return parseTree(await response.json());
}

/**
 * The file(s) a reference names. A file reference still asks the tree API for its size and SHA-256, but a failure
 * there only loses the verification data (the download itself reports a missing file or a gated repo).
 */
export async function resolveHf(ref: string | HfRef, options: ResolveHfOptions = {}): Promise<HfFile[]> {
  const spec = typeof ref === "string" ? parseHfRef(ref) : ref;
  const baseUrl = options.baseUrl ?? HF_BASE_URL;
  if (spec.quant) {
    const entries = await fetchTree(spec.repo, spec.revision, options);
    return chooseQuantFiles(entries, spec.quant, spec.repo).map((e) => toFile(e, spec.repo, spec.revision, baseUrl));
  }
  const filePath = spec.path!;
  let entries: HfTreeEntry[] = [];
  try {
    entries = await fetchTree(spec.repo, spec.revision, options);
  } catch {
    entries = [];
  }
  // The first part of a split set (x-00001-of-00003.gguf) stands for the whole set.
  const parts = splitPartPaths(filePath);
  const paths = parts && parts[0] === filePath ? parts : [filePath];
  return paths.map((p) => toFile(entries.find((e) => e.path === p) ?? { path: p }, spec.repo, spec.revision, baseUrl));
}

/** For a split part path (`dir/x-00002-of-00003.gguf`): the paths of all its parts, in order. Null otherwise. */
export function splitPartPaths(filePath: string): string[] | null {
  const m = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i.exec(filePath);
  if (!m || Number(m[3]) < 2) return null;
  const ext = filePath.slice(-5);
  return Array.from({ length: Number(m[3]) }, (_, i) => `${m[1]}-${String(i + 1).padStart(5, "0")}-of-${m[3]}${ext}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Hub API: model search and a repo's GGUF files (for the Models screen's Hub search).
// ---------------------------------------------------------------------------------------------------------------

export interface HubRequestOptions {
  /** Default https://huggingface.co. */
  baseUrl?: string;
  /** The Hugging Face token to send, read at each request (null: none). */
  token?: () => Promise<string | null | undefined>;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/** A model listing entry of GET /api/models (the fields Tandem reads; the Hub sends more). */
const HubModelEntry = z.object({
  id: z.string().optional(),
  modelId: z.string().optional(),
  author: z.string().nullish(),
  downloads: z.number().nullish(),
  likes: z.number().nullish(),
  lastModified: z.string().nullish(),
  gated: z.union([z.boolean(), z.string()]).nullish(),
});

export function hubSearchUrl(query: string, limit: number, baseUrl = HF_BASE_URL): string {
  const params = new URLSearchParams({ search: query, filter: "gguf", sort: "downloads", direction: "-1", limit: String(limit) });
  // Without `expand` the listing leaves out lastModified and gated.
  for (const key of ["author", "downloads", "likes", "lastModified", "gated"]) params.append("expand", key);
  return `${baseUrl}/api/models?${params.toString()}`;
}

/** Parses a GET /api/models answer into HubModels (entries without an id are skipped). */
export function parseHubModels(json: unknown): HubModel[] {
  if (!Array.isArray(json)) throw new HfError("The Hugging Face Hub sent a search answer Tandem cannot read (expected a list of models).", "bad-answer");
  const models: HubModel[] = [];
  for (const item of json) {
    const parsed = HubModelEntry.safeParse(item);
    if (!parsed.success) throw new HfError(`The Hugging Face Hub sent a search answer Tandem cannot read (${parsed.error.issues[0]?.message ?? "invalid"}).`, "bad-answer");
    const e = parsed.data;
    const repo = e.id ?? e.modelId;
    if (!repo || !/^[^/\s]+\/[^/\s]+$/.test(repo)) continue;
    const updated = e.lastModified ? Date.parse(e.lastModified) : NaN;
    models.push({
      repo,
      author: e.author ?? repo.split("/")[0],
      downloads: e.downloads ?? 0,
      likes: e.likes ?? 0,
      updatedAt: Number.isFinite(updated) ? updated : null,
      gated: e.gated === true || (typeof e.gated === "string" && e.gated !== "false"),
    });
  }
  return models;
}

/** GGUF model repos whose name matches `query`, most downloaded first. Throws HfError (with `kind`) on failure. */
export async function searchHubModels(query: string, options: HubRequestOptions & { limit?: number } = {}): Promise<HubModel[]> {
  const url = hubSearchUrl(query.trim(), options.limit ?? 20, options.baseUrl ?? HF_BASE_URL);
  const response = await hubGet(url, null, options);
  return parseHubModels(await readJson(response));
}

const QUANT = /(?:^|[-_.\s])(I?Q\d(?:_[A-Z0-9]+)*|BF16|FP?16|FP?32|MXFP4(?:_MOE)?|TQ\d_\d)(?=[-_.\s]|$)/gi;

/** The quantization a GGUF file name states (Q4_K_M, Q8_0, IQ4_XS, F16, BF16…), or null. */
export function quantizationFromName(filePath: string): string | null {
  const find = (text: string) => {
    const stem = text.replace(/\.gguf$/i, "").replace(/-\d{5}-of-\d{5}$/i, "");
    const matches = [...stem.matchAll(QUANT)];
    return matches.length ? matches[matches.length - 1][1].toUpperCase().replace(/^FP(16|32)$/, "F$1") : null;
  };
  return find(path.posix.basename(filePath)) ?? find(filePath.replace(/\//g, "-"));
}

/**
 * A tree listing's GGUF models as HubFiles: split sets folded into one entry (total size, no SHA-256), multimodal
 * projectors (mmproj) left out, sorted by path.
 */
export function hubFilesFromTree(repo: string, entries: HfTreeEntry[]): HubFile[] {
  const ggufs = entries.filter((e) => e.type === "file" && /\.gguf$/i.test(e.path) && !/mmproj/i.test(path.posix.basename(e.path)));
  const sets = new Map<string, HfTreeEntry[]>();
  for (const e of ggufs) {
    const key = splitPartPaths(e.path) ? e.path.replace(SPLIT, "") : e.path;
    sets.set(key, [...(sets.get(key) ?? []), e]);
  }
  const files: HubFile[] = [];
  for (const parts of sets.values()) {
    parts.sort((a, b) => a.path.localeCompare(b.path));
    const first = parts[0];
    const expected = splitPartPaths(first.path)?.length ?? 1;
    const sizes = parts.map((p) => p.lfs?.size ?? p.size);
    const oid = parts.length === 1 && expected === 1 ? first.lfs?.oid : undefined;
    files.push({
      repo,
      path: first.path,
      name: path.posix.basename(first.path),
      sizeBytes: sizes.every((n) => n !== undefined) && parts.length === expected ? sizes.reduce<number>((a, n) => a + (n ?? 0), 0) : null,
      sha256: oid && /^[0-9a-f]{64}$/i.test(oid) ? oid.toLowerCase() : null,
      quantization: quantizationFromName(first.path),
      parts: expected,
      source: `hf:${repo}/${first.path}`,
    });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** A repo's GGUF models from the tree API (recursive, following pagination). Throws HfError (with `kind`). */
export async function listHubGgufFiles(repo: string, options: HubRequestOptions & { revision?: string } = {}): Promise<HubFile[]> {
  if (!/^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/.test(repo)) throw new HfError(`"${repo}" is not a Hugging Face repository name (user/repo).`, "bad-name");
  const baseUrl = options.baseUrl ?? HF_BASE_URL;
  const entries: HfTreeEntry[] = [];
  let url: string | null = hfTreeUrl(repo, options.revision ?? "main", baseUrl);
  for (let page = 0; url && page < 50; page++) {
    const response = await hubGet(url, repo, options);
    const json = await readJson(response);
    const parsed = HfTree.safeParse(json);
    if (!parsed.success) throw new HfError(`The Hugging Face Hub sent a file list of ${repo} that Tandem cannot read (${parsed.error.issues[0]?.message ?? "invalid"}).`, "bad-answer");
    entries.push(...parsed.data);
    url = nextLink(response.headers.get("link"), url);
  }
  return hubFilesFromTree(repo, entries);
}

function nextLink(header: string | null, current: string): string | null {
  const m = header ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(header) : null;
  return m ? new URL(m[1], current).toString() : null;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HfError(`The Hugging Face Hub sent an answer Tandem cannot read (not JSON: "${text.slice(0, 40).replace(/\s+/g, " ")}…").`, "bad-answer");
  }
}

/** GET a Hub API URL; any failure becomes an HfError with a message fit to show (`repo` null for a search). */
async function hubGet(url: string, repo: string | null, options: HubRequestOptions): Promise<Response> {
  const baseUrl = options.baseUrl ?? HF_BASE_URL;
  const token = options.token ? await options.token() : null;
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, { headers, signal: options.signal });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new HfError(cantReachMessage(baseUrl, error, true), "offline");
  }
  if (response.ok) return response;
  const errorCode = response.headers.get("x-error-code");
  const status = response.status;
  await response.body?.cancel().catch(() => undefined);
  if (status === 404 || errorCode === "RepoNotFound") {
    throw new HfError(repo ? `Repository ${repo} was not found on the Hugging Face Hub.` : `The Hugging Face Hub at ${baseUrl} has no model search (HTTP 404).`, "not-found");
  }
  if (status === 401 || status === 403) {
    if (!repo) throw new HfError(`The Hugging Face Hub refused the request (HTTP ${status}): check the Hugging Face token in Settings.`, "access-denied");
    const how = token
      ? "the Hugging Face token in Settings has no access to it: accept the model's terms on its Hub page"
      : "it needs a Hugging Face token with access: add one in Settings, after accepting the model's terms on its Hub page";
    throw new HfError(`${repo} is gated or private (HTTP ${status}); ${how}.`, "access-denied");
  }
  if (status === 429) {
    const after = Number(response.headers.get("retry-after"));
    const when = Number.isFinite(after) && after > 0 ? `in ${Math.ceil(after)} s` : "in a minute";
    throw new HfError(`The Hugging Face Hub is rate limiting requests (HTTP 429); try again ${when}${token ? "" : " (a token in Settings raises the limit)"}.`, "rate-limited");
  }
  throw new HfError(`The Hugging Face Hub answered HTTP ${status}${status >= 500 ? "; try again later" : ""}.`, "http");
}

