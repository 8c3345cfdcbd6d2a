/**
 * Curated target + draft pairs (Hugging Face references for startDownload). Each draft shares its target's
 * tokenizer, so it can speed the target up with speculative decoding. Sizes are not known offline: the host
 * learns them from the Hub when the download starts.
 */
export interface CatalogPair {
  id: string;
  title: string;
  note: string;
  target: { label: string; source: string };
  draft: { label: string; source: string };
  /** The pair the welcome screen offers: small enough to run well on a CPU alone. */
  recommendedForCpu?: boolean;
}

export const MODEL_CATALOG: readonly CatalogPair[] = [
  {
    id: "qwen2.5-7b",
    title: "Qwen2.5 7B Instruct",
    note: "General chat; a GPU with 8 GB or more.",
    target: { label: "Qwen2.5 7B Instruct Q4_K_M", source: "hf:Qwen/Qwen2.5-7B-Instruct-GGUF:Q4_K_M" },
    draft: { label: "Qwen2.5 0.5B Instruct Q8_0", source: "hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q8_0" },
  },
  {
    id: "llama-3.1-8b",
    title: "Llama 3.1 8B Instruct",
    note: "General chat; a GPU with 8 GB or more.",
    target: { label: "Llama 3.1 8B Instruct Q4_K_M", source: "hf:bartowski/Meta-Llama-3.1-8B-Instruct-GGUF:Q4_K_M" },
    draft: { label: "Llama 3.2 1B Instruct Q8_0", source: "hf:bartowski/Llama-3.2-1B-Instruct-GGUF:Q8_0" },
  },
  {
    id: "qwen2.5-coder-7b",
    title: "Qwen2.5 Coder 7B Instruct",
    note: "Programming; a GPU with 8 GB or more.",
    target: { label: "Qwen2.5 Coder 7B Instruct Q4_K_M", source: "hf:Qwen/Qwen2.5-Coder-7B-Instruct-GGUF:Q4_K_M" },
    draft: { label: "Qwen2.5 Coder 0.5B Instruct Q8_0", source: "hf:Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF:Q8_0" },
  },
  {
    id: "qwen2.5-1.5b",
    title: "Qwen2.5 1.5B Instruct (CPU-friendly)",
    note: "Small and fast enough without a GPU.",
    recommendedForCpu: true,
    target: { label: "Qwen2.5 1.5B Instruct Q4_K_M", source: "hf:Qwen/Qwen2.5-1.5B-Instruct-GGUF:Q4_K_M" },
    draft: { label: "Qwen2.5 0.5B Instruct Q8_0", source: "hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q8_0" },
  },
];

/** The catalog's CPU-friendly pair (the welcome screen's suggestion). */
export const RECOMMENDED_CPU_PAIR: CatalogPair = MODEL_CATALOG.find((pair) => pair.recommendedForCpu) ?? MODEL_CATALOG[MODEL_CATALOG.length - 1];
