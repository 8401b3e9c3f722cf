/**
 * The pure parts of a replay in the console: the start form (candidate, time range with its presets, status
 * filter, limit, rule, rate) validated into the API's body, the range presets' bounds, and the progress.
 */
import type { FieldError } from "../api/client";
import type { Replay, ReplayRequest, ReplayStatus } from "../api/safety-types";
import { validateRule, EXACT_RULE_FORM, type RuleForm } from "./comparison";

export const MAX_REPLAY_LIMIT = 5000;
export const MAX_REPLAY_RATE = 100;

export type ReplayRange = "24h" | "yesterday" | "custom";

export interface ReplayForm {
  candidateVersion: string;
  range: ReplayRange;
  /** datetime-local texts (the browser's time zone), for range "custom". */
  start: string;
  end: string;
  /** "2xx", "4xx", "200"…; "" for every status. */
  status: string;
  limit: string;
  rule: RuleForm;
  rate: string;
}

export function defaultReplayForm(candidateVersion: number | null): ReplayForm {
  return {
    candidateVersion: candidateVersion === null ? "" : String(candidateVersion),
    range: "24h",
    start: "",
    end: "",
    status: "2xx",
    limit: "500",
    rule: EXACT_RULE_FORM,
    rate: "20",
  };
}

/** The bounds of a preset: the last 24 hours up to now, or yesterday from local midnight to midnight. */
export function presetBounds(range: Exclude<ReplayRange, "custom">, now: number = Date.now()): { start: string; end: string } {
  if (range === "24h") return { start: new Date(now - 86_400_000).toISOString(), end: new Date(now).toISOString() };
  const today = new Date(now);
  today.setHours(0, 0, 0, 0);
  const yesterday = new Date(today);
  yesterday.setDate(today.getDate() - 1);
  return { start: yesterday.toISOString(), end: today.toISOString() };
}

/** A status filter the API takes: a code (200), a class (4xx), or "" for all. */
export function validStatusFilter(text: string): boolean {
  const t = text.trim().toLowerCase();
  return t === "" || /^[1-5]\d\d$/.test(t) || /^[1-5]xx$/.test(t);
}

export type ReplayFormErrors = Partial<Record<"candidateVersion" | "range" | "status" | "limit" | "rule" | "rate", string>>;

const wholeIn = (text: string, min: number, max: number): number | null => {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return n >= min && n <= max ? n : null;
};

export function validateReplayForm(form: ReplayForm, now: number = Date.now()): { body: ReplayRequest | null; errors: ReplayFormErrors } {
  const errors: ReplayFormErrors = {};
  const candidate = wholeIn(form.candidateVersion, 1, Number.MAX_SAFE_INTEGER);
  if (candidate === null) errors.candidateVersion = "Choose the version to replay against.";
  let bounds: { start: string; end: string } | null = null;
  if (form.range === "custom") {
    const start = Date.parse(form.start);
    const end = Date.parse(form.end);
    if (Number.isNaN(start) || Number.isNaN(end)) errors.range = "Give a start and an end.";
    else if (end <= start) errors.range = "The end must be after the start.";
    else bounds = { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
  } else bounds = presetBounds(form.range, now);
  if (!validStatusFilter(form.status)) errors.status = "A status code (200), a class (2xx, 4xx) or empty for every status.";
  const limit = wholeIn(form.limit, 1, MAX_REPLAY_LIMIT);
  if (limit === null) errors.limit = `Replay 1 to ${MAX_REPLAY_LIMIT} requests.`;
  const rule = validateRule(form.rule);
  if (rule.error) errors.rule = rule.error;
  const rate = wholeIn(form.rate, 1, MAX_REPLAY_RATE);
  if (rate === null) errors.rate = `1 to ${MAX_REPLAY_RATE} requests per second.`;
  if (Object.keys(errors).length > 0 || !bounds) return { body: null, errors };
  return {
    body: {
      candidateVersion: candidate!,
      source: { start: bounds.start, end: bounds.end, status: form.status.trim().toLowerCase() || null, limit: limit! },
      rule: rule.rule!,
      ratePerSecond: rate!,
    },
    errors,
  };
}

/** A 422's details on the form's fields (`source.limit` on limit, `rule.absolute` on the rule); the others as sentences. */
export function replayErrorsFromApi(details: readonly FieldError[]): { placed: ReplayFormErrors; rest: string[] } {
  const placed: ReplayFormErrors = {};
  const rest: string[] = [];
  const keyOf = (field: string): keyof ReplayFormErrors | null => {
    const f = field.toLowerCase();
    if (f === "candidateversion") return "candidateVersion";
    if (f === "source.status") return "status";
    if (f === "source.limit") return "limit";
    if (f === "source" || f === "source.start" || f === "source.end") return "range";
    if (f === "rule" || f.startsWith("rule.")) return "rule";
    if (f === "ratepersecond") return "rate";
    return null;
  };
  for (const d of details) {
    const key = keyOf(d.field);
    if (key && !placed[key]) placed[key] = d.message;
    else if (!key) rest.push(d.field ? `${d.field}: ${d.message}` : d.message);
  }
  return { placed, rest };
}

export const REPLAY_ACTIVE: readonly ReplayStatus[] = ["PENDING", "RUNNING"];

export function replayActive(replay: Pick<Replay, "status">): boolean {
  return REPLAY_ACTIVE.includes(replay.status);
}

/** Done of total as 0..1 (a replay with nothing to send is complete once it ends). */
export function replayFraction(replay: Pick<Replay, "progress" | "status">): number {
  const { done, total } = replay.progress;
  if (total <= 0) return replayActive(replay) ? 0 : 1;
  return Math.min(1, done / total);
}
