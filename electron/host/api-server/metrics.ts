/**
 * /metrics: a tiny Prometheus registry (counters with labels, gauges read when scraped, one histogram) in the text
 * exposition format, and the API server's metrics on it. Names are prefixed `tandem:` and follow vLLM's and
 * llama.cpp's speculative-decoding names, so dashboards built for those read Tandem too.
 */
import { CacheOutcome, type GenerationStats, type VerifyStep } from "../../../contracts/engine/protocol.js";

type Labels = Record<string, string>;

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? "" : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1e6) / 1e6);
}

interface Metric {
  render(): string[];
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    private readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = formatLabels(labels);
    const entry = this.values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(key, entry);
  }

  get(labels: Labels = {}): number {
    return this.values.get(formatLabels(labels))?.value ?? 0;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    // A label-less counter is shown at 0 before its first increment, so rate() works from the first scrape.
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${formatLabels(labels)} ${formatValue(value)}`);
    return lines;
  }
}

export class Gauge implements Metric {
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly read: () => number,
  ) {}

  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, `${this.name} ${formatValue(this.read())}`];
  }
}

export class Histogram implements Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly buckets: readonly number[],
  ) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    this.buckets.forEach((bound, i) => {
      if (value <= bound) this.counts[i]!++;
    });
  }

  render(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} histogram`,
      ...this.buckets.map((bound, i) => `${this.name}_bucket{le="${formatValue(bound)}"} ${this.counts[i]}`),
      `${this.name}_bucket{le="+Inf"} ${this.count}`,
      `${this.name}_sum ${formatValue(this.sum)}`,
      `${this.name}_count ${this.count}`,
    ];
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];

  add<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }

  render(): string {
    return `${this.metrics.flatMap((metric) => metric.render()).join("\n")}\n`;
  }
}

/** The draft positions shown from the start (more appear once counted): the default bound on the draft length. */
const INITIAL_POSITIONS = 8;

/** The API server's metrics; see the README's "API server" section for what each one counts. */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly requests = this.registry.add(new Counter("tandem:requests_total", "HTTP requests answered, by endpoint and status code."));
  readonly promptTokens = this.registry.add(new Counter("tandem:prompt_tokens_total", "Prompt tokens of finished generations (evaluated or served from the cache)."));
  readonly generationTokens = this.registry.add(new Counter("tandem:generation_tokens_total", "Tokens generated."));
  readonly drafts = this.registry.add(new Counter("tandem:spec_decode_num_drafts_total", "Target decodes that verified drafted tokens."));
  readonly draftTokens = this.registry.add(new Counter("tandem:spec_decode_num_draft_tokens_total", "Drafted tokens proposed to the target."));
  readonly acceptedTokens = this.registry.add(new Counter("tandem:spec_decode_num_accepted_tokens_total", "Drafted tokens the target accepted."));
  readonly acceptedPerPosition = this.registry.add(
    new Counter("tandem:spec_decode_num_accepted_tokens_per_pos_total", "Drafted tokens accepted at each position of a draft (0 = the first drafted token)."),
  );
  readonly cacheOutcomes = this.registry.add(new Counter("tandem:cache_outcome_total", "How the conversation cache served each generation's prompt."));
  readonly timeToFirstToken = this.registry.add(
    new Histogram("tandem:time_to_first_token_seconds", "From a generation request's arrival to its first token.", [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]),
  );

  constructor(load: { running: () => number; waiting: () => number }) {
    this.registry.add(new Gauge("tandem:requests_running", "Generation requests at the engine now.", load.running));
    this.registry.add(new Gauge("tandem:requests_waiting", "Generation requests waiting for the engine.", load.waiting));
    for (let position = 0; position < INITIAL_POSITIONS; position++) this.acceptedPerPosition.inc({ position: String(position) }, 0);
    for (const outcome of CacheOutcome.options) this.cacheOutcomes.inc({ outcome }, 0);
  }

  /** One verify step as it streamed: which draft positions were accepted. */
  recordStep(step: VerifyStep): void {
    for (let position = 0; position < step.accepted; position++) this.acceptedPerPosition.inc({ position: String(position) });
  }

  recordCacheOutcome(outcome: CacheOutcome): void {
    this.cacheOutcomes.inc({ outcome });
  }

  /** A generation's totals, from the engine's own counters (exact even for steps that streamed no token). */
  recordGeneration(stats: GenerationStats): void {
    this.promptTokens.inc({}, stats.promptTokens);
    this.generationTokens.inc({}, stats.tokens);
    const speculation = stats.speculation;
    if (!speculation) return;
    this.drafts.inc({}, speculation.verifySteps);
    this.draftTokens.inc({}, speculation.proposed);
    this.acceptedTokens.inc({}, speculation.accepted);
  }

  recordRequest(endpoint: string, status: number): void {
    this.requests.inc({ endpoint, status: String(status) });
  }

  render(): string {
    return this.registry.render();
  }
}
