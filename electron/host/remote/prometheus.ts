/**
 * A small parser of Prometheus' text exposition format (what vLLM's and llama-server's /metrics answer): one
 * sample per line, `name{label="value",…} number [timestamp]`, `#` lines for HELP and TYPE. Enough to read
 * counters and gauges; histograms come out as their `_bucket`/`_sum`/`_count` samples.
 */
export interface PrometheusSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?\s*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/g;

export function parsePrometheus(text: string): PrometheusSample[] {
  const samples: PrometheusSample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const value = parseValue(match[4]!);
    if (value === null) continue;
    const labels: Record<string, string> = {};
    if (match[3]) {
      for (const label of match[3].matchAll(LABEL)) {
        labels[label[1]!] = label[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
      }
    }
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

function parseValue(text: string): number | null {
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const value = Number(text);
  return Number.isNaN(value) ? null : value;
}

/**
 * The sum of a metric's samples whose labels include `match` (a server with several engines or models reports one
 * sample each), or null when it has none.
 */
export function metricSum(samples: PrometheusSample[], name: string, match: Record<string, string> = {}): number | null {
  let total: number | null = null;
  for (const sample of samples) {
    if (sample.name !== name) continue;
    if (!Object.entries(match).every(([key, value]) => sample.labels[key] === value)) continue;
    total = (total ?? 0) + sample.value;
  }
  return total;
}
