/**
 * A time-series line chart on uPlot (canvas, ~20 KB gzipped). It follows its container's width and
 * keeps one uPlot instance, feeding it new data on refresh instead of rebuilding it.
 */
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
}

export interface ChartProps {
  title: string;
  /** Unix seconds, ascending. */
  times: number[];
  series: ChartSeries[];
  /** Formats a y value for the axis and the legend. */
  format: (value: number) => string;
  height?: number;
  yMin?: number;
  yMax?: number;
}

/** Indices of values with no neighbour on either side (a line cannot show them). */
export function isolated(values: ArrayLike<number | null | undefined>): number[] {
  const out: number[] = [];
  const missing = (i: number) => i < 0 || i >= values.length || values[i] === null || values[i] === undefined;
  for (let i = 0; i < values.length; i++) {
    if (!missing(i) && missing(i - 1) && missing(i + 1)) out.push(i);
  }
  return out;
}

/**
 * The legend's value: at the cursor, or (with the cursor off the chart) the latest value there is,
 * so a series with data never reads "—" just because nothing is hovered.
 */
export function legendValue(values: ArrayLike<number | null | undefined>, idx: number | null | undefined): number | null {
  if (idx !== null && idx !== undefined) return values[idx] ?? null;
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

/** The legend's time: the hovered point's, or "latest" while the values shown are the latest ones. */
export function legendTime(seconds: number | null | undefined, idx: number | null | undefined): string {
  if (idx === null || idx === undefined) return "latest";
  if (seconds === null || seconds === undefined) return "—";
  return new Date(seconds * 1000).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

function isolatedPoints(u: uPlot, seriesIdx: number, show: boolean): number[] | null {
  if (show) return null;
  const found = isolated(u.data[seriesIdx] ?? []);
  return found.length ? found : null;
}

export function Chart({ title, times, series, format, height = 180, yMin, yMax }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => `${s.label}:${s.color}`).join("|");

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      scales: {
        x: { time: true },
        y: {
          range: (_u, min, max) => {
            const lo = yMin ?? Math.min(0, min ?? 0);
            const hi = yMax ?? (max && max > lo ? max * 1.1 : lo + 1);
            return [lo, hi];
          },
        },
      },
      axes: [
        { stroke: "#555", grid: { stroke: "#eee" }, ticks: { stroke: "#ddd" } },
        {
          stroke: "#555",
          grid: { stroke: "#eee" },
          ticks: { stroke: "#ddd" },
          size: 60,
          values: (_u, splits) => splits.map((v) => format(v)),
        },
      ],
      series: [
        { value: (_u, v, _s, idx) => legendTime(v, idx) },
        ...series.map<uPlot.Series>((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          spanGaps: false,
          // uPlot hides points when they are dense; a value between gaps would then be invisible.
          points: { size: 6, fill: s.color, filter: isolatedPoints },
          value: (u, _v, seriesIdx, idx) => {
            const v = legendValue(u.data[seriesIdx] ?? [], idx);
            return v === null ? "—" : format(v);
          },
        })),
      ],
    };
    const u = new uPlot(opts, [times, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    plot.current = u;
    const observer = new ResizeObserver(() => {
      const width = Math.max(200, el.clientWidth);
      if (width !== u.width) u.setSize({ width, height });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Rebuilt only when the set of series changes; data updates go through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, height, yMin, yMax]);

  useEffect(() => {
    plot.current?.setData([times, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [times, series]);

  return (
    <figure className="chart">
      <figcaption className="chart-title">{title}</figcaption>
      <div ref={box} className="chart-canvas" role="img" aria-label={`${title} chart`} />
    </figure>
  );
}
