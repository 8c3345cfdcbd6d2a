/**
 * Hugging Face references: `hf:user/repo/path/file.gguf` (a file) or `hf:user/repo:Q4_K_M` (the repo's GGUF of that
 * quantization, found through the tree API), optionally with a revision `hf:user/repo@rev/...`. Resolves to download
 * URLs (`<base>/<repo>/resolve/<rev>/<path>`) with the size and SHA-256 that the tree API's `lfs` entries give.
 */
import path from "node:path";
import { z } from "zod";

export const HF_BASE_URL = "https://huggingface.co";

export class HfError extends Error {
  constructor(message: string) {
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
    throw new HfError(`cannot reach ${baseUrl}: ${error instanceof Error ? error.message : String(error)}`);
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
  let entry: HfTreeEntry | undefined;
  try {
    entry = (await fetchTree(spec.repo, spec.revision, options)).find((e) => e.path === filePath);
  } catch {
    entry = undefined;
  }
  return [toFile(entry ?? { path: filePath }, spec.repo, spec.revision, baseUrl)];
}
