/** Turns the metrics API answer into chart columns and headline numbers. */
import type { Metrics, MetricSeriesName } from "../api/types";

export function series(metrics: Metrics, name: MetricSeriesName): (number | null)[] {
  const values = metrics.series[name] ?? [];
  return metrics.timestamps.map((_, i) => {
    const v = values[i];
    return typeof v === "number" && Number.isFinite(v) ? v : null;
  });
}

export function timesInSeconds(metrics: Metrics): number[] {
  return metrics.timestamps.map((t) => Math.floor(new Date(t).getTime() / 1000));
}

/**
 * Availability in percent: the share of requests not answered with a 5xx (the API's `successRate`).
 * The contract does not say whether the API sends 0..1 or 0..100; a series whose values all lie
 * within 0..1 is read as fractions.
 */
export function availabilityPercent(metrics: Metrics): (number | null)[] {
  const values = series(metrics, "successRate");
  const present = values.filter((v): v is number => v !== null);
  const fractions = present.length > 0 && present.every((v) => v <= 1);
  return fractions ? values.map((v) => (v === null ? null : v * 100)) : values;
}

/** Success in percent: the share of requests answered with a 2xx (neither 4xx nor 5xx), per period. */
export function successPercent(metrics: Metrics): (number | null)[] {
  const errors4xx = series(metrics, "errors4xx");
  const errors5xx = series(metrics, "errors5xx");
  return series(metrics, "requests").map((n, i) =>
    n === null || n <= 0 ? null : (100 * Math.max(0, n - (errors4xx[i] ?? 0) - (errors5xx[i] ?? 0))) / n,
  );
}

/** Requests per second in each period. */
export function requestsPerSecond(metrics: Metrics): (number | null)[] {
  const period = metrics.period > 0 ? metrics.period : 60;
  return series(metrics, "requests").map((v) => (v === null ? null : v / period));
}

export interface MetricsSummary {
  requests: number;
  errors4xx: number;
  errors5xx: number;
  /** Percent of requests not answered with a 5xx, weighted by requests; null without requests. */
  availability: number | null;
  /** Percent of requests answered with a 2xx; null without requests. */
  success: number | null;
  /** Mean latency weighted by requests, in ms. */
  latencyAvg: number | null;
  /** The worst p99 of any period, in ms. */
  latencyP99Max: number | null;
}

function sum(values: (number | null)[]): number {
  return values.reduce<number>((acc, v) => acc + (v ?? 0), 0);
}

export function summarize(metrics: Metrics): MetricsSummary {
  const requests = series(metrics, "requests");
  const total = sum(requests);
  const weighted = (values: (number | null)[]): number | null => {
    let num = 0;
    let den = 0;
    values.forEach((v, i) => {
      const n = requests[i] ?? 0;
      if (v !== null && n > 0) {
        num += v * n;
        den += n;
      }
    });
    return den > 0 ? num / den : null;
  };
  const p99 = series(metrics, "latencyP99").filter((v): v is number => v !== null);
  const errors4xx = sum(series(metrics, "errors4xx"));
  const errors5xx = sum(series(metrics, "errors5xx"));
  return {
    requests: total,
    errors4xx,
    errors5xx,
    availability: weighted(availabilityPercent(metrics)),
    success: total > 0 ? (100 * Math.max(0, total - errors4xx - errors5xx)) / total : null,
    latencyAvg: weighted(series(metrics, "latencyAvg")),
    latencyP99Max: p99.length ? Math.max(...p99) : null,
  };
}

/**
 * Several versions' metrics (each read with `?version=N`) on one time axis: the union of their
 * timestamps, each version's values at those times (null where it had no period), for one series.
 */
export function alignByVersion(
  perVersion: readonly { version: number; metrics: Metrics }[],
  pick: (metrics: Metrics) => (number | null)[],
): { times: number[]; series: { version: number; values: (number | null)[] }[] } {
  const times = [...new Set(perVersion.flatMap(({ metrics }) => timesInSeconds(metrics)))].sort((a, b) => a - b);
  return {
    times,
    series: perVersion.map(({ version, metrics }) => {
      const at = new Map<number, number | null>();
      const values = pick(metrics);
      timesInSeconds(metrics).forEach((t, i) => at.set(t, values[i] ?? null));
      return { version, values: times.map((t) => at.get(t) ?? null) };
    }),
  };
}

/** Memory at or above this share of the limit in a replica is flagged: past the limit the container is killed. */
export const MEMORY_WARNING_PERCENT = 90;

/** The latest value of a series, or null when it has none in the range. */
export function latest(values: (number | null)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

/** The fullest replica's latest memory share when it is near the limit, else null. */
export function memoryNearLimit(metrics: Metrics): number | null {
  const peak = latest(series(metrics, "memoryPeakPercent"));
  return peak !== null && peak >= MEMORY_WARNING_PERCENT ? peak : null;
}
