/**
 * Charts behind a small adapter: components describe a chart (ChartSpec) and hand it data; a ChartFactory draws
 * it. The app's factory is uPlot (loaded on first use); tests provide a fake one through ChartFactoryContext and
 * check the series each chart receives.
 */
import { createContext, useContext, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { useSettingsStore } from "../stores/settings.js";
// uPlot's own layout rules (legend, cursor); small, so part of the main stylesheet. uPlot itself loads on first use.
import "uplot/dist/uPlot.min.css";

export interface ChartSeriesSpec {
  label: string;
  /** A CSS colour variable (e.g. "--accent"), resolved for the current theme. */
  color: string;
  scale: string;
  /** Fill under the line (or the bars) with the colour, translucent. */
  fill?: boolean;
  dash?: number[];
}

export interface ChartScaleSpec {
  label: string;
  side: "left" | "right";
  min?: number;
  max?: number;
  /** Values are fractions shown as percentages. */
  percent?: boolean;
}

export interface ChartSpec {
  /** Names the chart for tests and assistive technology. */
  id: string;
  title: string;
  kind: "line" | "bars";
  xLabel: string;
  height: number;
  scales: Record<string, ChartScaleSpec>;
  series: ChartSeriesSpec[];
  /** Mark each point (for charts with few points, e.g. one per reply). */
  points?: boolean;
}

/** x values, then one array per series (null = no value at that x). */
export type ChartData = [number[], ...(number | null)[][]];

/** Colours resolved from the theme's CSS variables (canvas drawing needs real colour values). */
export interface ChartTheme {
  text: string;
  grid: string;
  /** By CSS variable name, for the series. */
  colors: Record<string, string>;
}

export interface ChartHandle {
  setData(data: ChartData): void;
  setSize(width: number, height: number): void;
  destroy(): void;
}

export interface ChartFactory {
  create(target: HTMLElement, spec: ChartSpec, data: ChartData, theme: ChartTheme, width: number): ChartHandle | Promise<ChartHandle>;
}

/** A colour with alpha, from a computed `rgb(…)`/`rgba(…)` colour (others are returned as they are). */
export function withAlpha(color: string, alpha: number): string {
  const m = /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)/.exec(color);
  return m ? `rgba(${m[1]}, ${m[2]}, ${m[3]}, ${alpha})` : color;
}

/** A series' latest value (its last non-null one), what a legend shows while the cursor is elsewhere. */
export function latestValue(values: readonly (number | null | undefined)[] | undefined): number | null {
  if (!values) return null;
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

/** A legend value: "–" only where there is none. */
export function legendText(value: number | null | undefined, percent: boolean): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (percent) return `${(value * 100).toFixed(1)}%`;
  return value >= 100 ? String(Math.round(value)) : value.toFixed(2).replace(/\.?0+$/, "");
}

const INTEGER_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000];

const uplotFactory: ChartFactory = {
  async create(target, spec, data, theme, width) {
    const { default: uPlot } = await import("uplot");
    const bars = spec.kind === "bars" ? uPlot.paths.bars!({ size: [0.7, 48], align: 0 }) : undefined;
    const axis = (scale: string, s: ChartScaleSpec): uPlot.Axis => ({
      scale,
      side: s.side === "left" ? 3 : 1,
      label: s.label,
      stroke: theme.text,
      grid: { show: s.side === "left", stroke: theme.grid, width: 1 },
      ticks: { stroke: theme.grid, width: 1 },
      size: 48,
      values: s.percent ? (_u, splits) => splits.map((v) => `${Math.round(v * 100)}%`) : undefined,
    });
    const opts: uPlot.Options = {
      width,
      height: spec.height,
      padding: [8, 4, 0, 0],
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      legend: { show: true, live: true },
      scales: {
        x:
          spec.kind === "bars"
            ? { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] }
            : { time: false },
        ...Object.fromEntries(
          Object.entries(spec.scales).map(([k, s]) => [
            k,
            {
              auto: s.min === undefined || s.max === undefined,
              range: (_u: uPlot, dmin: number | null, dmax: number | null): uPlot.Range.MinMax => [
                s.min ?? Math.min(0, dmin ?? 0),
                s.max ?? Math.max(1, (dmax ?? 1) * 1.1),
              ],
            },
          ]),
        ),
      },
      axes: [
        {
          label: spec.xLabel,
          stroke: theme.text,
          grid: { show: false },
          ticks: { stroke: theme.grid, width: 1 },
          size: 36,
          // x is a count (tokens, replies, accepted tokens): whole-number ticks only.
          ...(spec.kind === "bars" ? { splits: (u: uPlot) => (u.data[0] as number[]).slice() } : { incrs: INTEGER_INCRS }),
        },
        ...Object.entries(spec.scales).map(([k, s]) => axis(k, s)),
      ],
      series: [
        { label: spec.xLabel, value: (u, v, _sidx, idx) => legendText(idx === null || idx === undefined ? latestValue(u.data[0] as number[]) : v, false) },
        ...spec.series.map((s): uPlot.Series => {
          const color = theme.colors[s.color] ?? theme.text;
          return {
            label: s.label,
            scale: s.scale,
            stroke: color,
            width: spec.kind === "bars" ? 0 : 1.6,
            dash: s.dash,
            fill: s.fill ? withAlpha(color, spec.kind === "bars" ? 0.75 : 0.12) : undefined,
            paths: bars,
            points: { show: spec.kind === "line" && !!spec.points, size: 5 },
            spanGaps: true,
            // Away from the cursor the legend shows each series' latest value (not "–" until hovered).
            value: (u, v, sidx, idx) => legendText(idx === null || idx === undefined ? latestValue(u.data[sidx] as (number | null)[]) : v, !!spec.scales[s.scale]?.percent),
          };
        }),
      ],
    };
    const plot = new uPlot(opts, data as uPlot.AlignedData, target);
    return {
      setData: (d) => {
        plot.setData(d as uPlot.AlignedData);
        // The legend follows new data too (the latest values), unless the cursor is on a point.
        plot.setLegend({ idx: plot.cursor.idx ?? undefined });
      },
      setSize: (w, h) => plot.setSize({ width: w, height: h }),
      destroy: () => plot.destroy(),
    };
  },
};

export const ChartFactoryContext = createContext<ChartFactory>(uplotFactory);

/** Resolves a CSS colour (e.g. "var(--accent)") for the current theme, through a probe element under `host`. */
function resolveColor(host: HTMLElement, css: string): string {
  const probe = document.createElement("span");
  probe.style.color = css;
  probe.style.display = "none";
  host.appendChild(probe);
  const value = getComputedStyle(probe).color;
  probe.remove();
  return value || css;
}

function readTheme(host: HTMLElement, spec: ChartSpec): ChartTheme {
  const colors: Record<string, string> = {};
  for (const s of spec.series) colors[s.color] = resolveColor(host, `var(${s.color})`);
  return { text: resolveColor(host, "var(--text-muted)"), grid: resolveColor(host, "var(--border)"), colors };
}

const darkQuery = () => (typeof window.matchMedia === "function" ? window.matchMedia("(prefers-color-scheme: dark)") : null);

/** Changes when the effective theme does (the setting, or the OS preference under "system"). */
function useThemeKey(): string {
  const setting = useSettingsStore((s) => s.settings?.theme ?? "system");
  const osDark = useSyncExternalStore(
    (notify) => {
      const q = darkQuery();
      q?.addEventListener("change", notify);
      return () => q?.removeEventListener("change", notify);
    },
    () => darkQuery()?.matches ?? false,
  );
  return setting === "system" ? (osDark ? "dark" : "light") : setting;
}

/** One chart: created on mount (and again when the theme changes), fed new data without being re-created. */
export function Chart({ spec, data }: { spec: ChartSpec; data: ChartData }) {
  const factory = useContext(ChartFactoryContext);
  const themeKey = useThemeKey();
  const ref = useRef<HTMLDivElement>(null);
  const handle = useRef<ChartHandle | null>(null);
  const latest = useRef(data);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    latest.current = data;
    handle.current?.setData(data);
  }, [data]);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    let disposed = false;
    let created: ChartHandle | null = null;
    const width = () => Math.max(120, Math.floor(el.clientWidth || 300));
    const attach = (h: ChartHandle) => {
      if (disposed) return h.destroy();
      created = h;
      handle.current = h;
      // Data that arrived while the chart was being created.
      h.setData(latest.current);
    };
    try {
      const result = factory.create(el, spec, latest.current, readTheme(el, spec), width());
      if (result instanceof Promise) result.then(attach, () => setFailed(true));
      else attach(result);
    } catch {
      setFailed(true);
    }
    const observer = typeof ResizeObserver === "function" ? new ResizeObserver(() => created?.setSize(width(), spec.height)) : null;
    observer?.observe(el);
    return () => {
      disposed = true;
      observer?.disconnect();
      created?.destroy();
      if (handle.current === created) handle.current = null;
    };
  }, [factory, spec, themeKey]);

  return (
    <figure className="chart" data-testid={`chart-${spec.id}`} aria-label={spec.title}>
      <figcaption className="chart-title">{spec.title}</figcaption>
      {failed ? <p className="muted">Chart unavailable.</p> : <div className="chart-canvas" ref={ref} style={{ minHeight: spec.height }} />}
    </figure>
  );
}
