/**
 * `tandem inspect <path | hf:user/repo[:QUANT | /file.gguf] | https://…/x.gguf> [--json]`: a GGUF file's facts from
 * its header (no weights loaded; a remote file's header is fetched with ranged requests, nothing else). A file that
 * is not a whole GGUF model exits 1 with a one-line reason; a usage mistake exits 2.
 */
import { parseArgs } from "node:util";
import { HF_BASE_URL, HfError, isHfRef, parseHfRef, resolveHf } from "../electron/host/downloads/hf.js";
import { GgufInspectError, inspectGguf, type GgufFacts } from "../engine/gguf/inspect.js";

export const INSPECT_HELP = `  inspect <path | hf:user/repo:QUANT | hf:user/repo/file.gguf | https://…/x.gguf> [--json]
                              A GGUF file's facts from its header (no weights loaded; a remote file's header
                              only, through ranged requests): architecture, parameters, quantization, trained
                              context, tokenizer, special tokens, chat template, split parts. Exits 1 with a
                              one-line reason for a file that is not a whole GGUF model.
      --json                  One JSON object on stdout
      --token <token>         Hugging Face token for gated repos (default: $HF_TOKEN; $HF_ENDPOINT sets the Hub)
`;

export async function inspectCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: "boolean", default: false }, token: { type: "string" } } });
  } catch (error) {
    process.stderr.write(`tandem: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const [path, ...extra] = parsed.positionals;
  if (path === undefined || extra.length > 0) {
    process.stderr.write("tandem: inspect takes one path (see tandem --help)\n");
    return 2;
  }
  if (isHfRef(path)) {
    try {
      parseHfRef(path);
    } catch (error) {
      process.stderr.write(`tandem: ${(error as Error).message}\n`);
      return 2;
    }
  }
  let facts: GgufFacts;
  try {
    facts = await inspectSource(path, parsed.values.token ?? (process.env.HF_TOKEN || undefined));
  } catch (error) {
    if (!(error instanceof GgufInspectError) && !(error instanceof HfError)) throw error;
    process.stderr.write(`tandem: ${error.message.split("\n")[0]}\n`);
    return 1;
  }
  process.stdout.write(parsed.values.json ? `${JSON.stringify(facts)}\n` : formatFacts(facts));
  return 0;
}

/** A local path, an http(s) URL, or an `hf:` reference (resolved like `tandem pull`; a split set: its first part). */
export async function inspectSource(source: string, token?: string): Promise<GgufFacts> {
  if (isHfRef(source)) {
    const files = await resolveHf(source, { baseUrl: process.env.HF_ENDPOINT || HF_BASE_URL, token });
    return inspectGguf(files[0].url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  }
  return inspectGguf(source);
}

export function formatFacts(f: GgufFacts): string {
  const id = (n: number | null) => (n === null ? "none" : String(n));
  const rows: [string, string][] = [
    ["File", f.path],
    ["Size", formatBytes(f.sizeBytes)],
    ["GGUF version", String(f.ggufVersion)],
    ["Name", f.modelName ?? "(not set)"],
    ["Architecture", f.architecture],
    ["Parameters", `${formatCount(f.parameters)} (${f.parameters})`],
    ["Quantization", f.quantization],
    ["Trained context", f.contextLength === null ? "unknown" : `${f.contextLength} tokens`],
    ["Tokenizer", `${f.tokenizer}, ${f.vocabSize} tokens`],
    ["Special tokens", `bos ${id(f.specialTokens.bos)}, eos ${id(f.specialTokens.eos)}, eot ${id(f.specialTokens.eot)}, unknown ${id(f.specialTokens.unknown)}`],
    ["Chat template", f.hasChatTemplate ? `yes${f.chatWrapper ? ` (${f.chatWrapper})` : ""}` : `no${f.chatWrapper ? ` (falls back to ${f.chatWrapper})` : ""}`],
  ];
  if (f.chatTemplateFirstLine) rows.push(["Template start", f.chatTemplateFirstLine]);
  if (f.split) {
    rows.push(["Split parts", `${f.split.parts}${f.split.missingParts.length ? `, missing: ${f.split.missingParts.join(", ")}` : ", all present"}`]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}\n`).join("");
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} KB`;
  return `${n} bytes`;
}
