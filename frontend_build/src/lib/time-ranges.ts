/** The time ranges offered by the Requests and Metrics tabs, with the metric period for each. */

export interface TimeRange {
  id: string;
  label: string;
  ms: number;
  /** Seconds per data point; chosen so a chart has 15..300 points. */
  period: number;
}

export const TIME_RANGES: readonly TimeRange[] = [
  { id: "15m", label: "Last 15 minutes", ms: 15 * 60_000, period: 60 },
  { id: "1h", label: "Last hour", ms: 3_600_000, period: 60 },
  { id: "24h", label: "Last 24 hours", ms: 86_400_000, period: 300 },
  { id: "7d", label: "Last 7 days", ms: 7 * 86_400_000, period: 3600 },
];

export function findRange(id: string): TimeRange {
  return TIME_RANGES.find((r) => r.id === id) ?? (TIME_RANGES[1] as TimeRange);
}

/** ISO bounds of a range ending now (to the second, so URLs are stable within a second). */
export function rangeBounds(range: TimeRange, now: number = Date.now()): { from: string; to: string } {
  const to = Math.floor(now / 1000) * 1000;
  return { from: new Date(to - range.ms).toISOString(), to: new Date(to).toISOString() };
}

/** The shortest range that holds the model's whole life (a new model's charts are not a few dots at the right edge). */
export function rangeForAge(createdAt: string, now: number = Date.now()): TimeRange {
  const age = now - Date.parse(createdAt);
  return TIME_RANGES.find((r) => r.ms >= age) ?? (TIME_RANGES[TIME_RANGES.length - 1] as TimeRange);
}
