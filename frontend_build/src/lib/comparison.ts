/**
 * The pure parts of comparing a candidate's answers with the serving version's, shared by replays and shadow
 * traffic: the rule's form and its validation, the numbers' wording, and a JSON body pretty-printed line by line
 * with the subtree at the difference's path (`where`: "$", "$.scores[2]", "$.items.length") marked.
 */
import type { ComparisonRule, ComparisonCounts } from "../api/safety-types";

/** The rule as typed: numbers as text, so "" and "0.5" can be told apart. */
export interface RuleForm {
  kind: "exact" | "tolerance";
  absolute: string;
  relative: string;
}

export const EXACT_RULE_FORM: RuleForm = { kind: "exact", absolute: "0", relative: "0" };

const parseNonNegative = (text: string): number | null => {
  const t = text.trim();
  if (t === "") return 0;
  if (!/^\d*\.?\d+(e-?\d+)?$/i.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) && n >= 0 ? n : null;
};

/** The rule to send, or why it cannot be sent. */
export function validateRule(form: RuleForm): { rule: ComparisonRule | null; error: string | null } {
  if (form.kind === "exact") return { rule: { kind: "exact", absolute: 0, relative: 0 }, error: null };
  const absolute = parseNonNegative(form.absolute);
  const relative = parseNonNegative(form.relative);
  if (absolute === null || relative === null) return { rule: null, error: "Tolerances are numbers of 0 or more." };
  if (absolute === 0 && relative === 0) return { rule: null, error: "A tolerance needs an absolute or a relative margin above 0." };
  return { rule: { kind: "tolerance", absolute, relative }, error: null };
}

/** "exact", or "within 0.01 + 1% of the larger". */
export function describeRule(rule: ComparisonRule): string {
  if (rule.kind === "exact") return "exact";
  const parts: string[] = [];
  if (rule.absolute > 0) parts.push(`${rule.absolute}`);
  if (rule.relative > 0) parts.push(`${formatRate(rule.relative)} of the larger`);
  return `within ${parts.join(" + ")}`;
}

/** A rate in 0..1 as a percentage, to at most two decimals ("98.5%", "100%"); "—" when none. */
export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return "—";
  const pct = rate * 100;
  const text = pct === 100 || pct === 0 ? String(pct) : pct.toFixed(2).replace(/\.?0+$/, "");
  return `${text}%`;
}

/** Milliseconds, or "—". */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  return ms >= 100 ? `${Math.round(ms)} ms` : `${Number(ms.toFixed(1))} ms`;
}

/** How many answers were compared (skipped ones were not). */
export function compared(counts: ComparisonCounts): number {
  return counts.matched + counts.differed + counts.errored;
}

export type PathSegment = string | number;

/** "$.scores[2].label" -> ["scores", 2, "label"]; a trailing ".length" (arrays of other lengths) marks the array itself. */
export function parseWhere(where: string): PathSegment[] {
  const segments: PathSegment[] = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]/g;
  const rest = where.startsWith("$") ? where.slice(1) : where;
  for (const m of rest.matchAll(re)) segments.push(m[2] !== undefined ? Number(m[2]) : (m[1] as string));
  if (segments[segments.length - 1] === "length") segments.pop();
  return segments;
}

/** A body as the API keeps it: JSON text is read as JSON, anything else stays text. */
export function readBody(body: unknown): unknown {
  if (typeof body !== "string") return body;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

export interface JsonLine {
  text: string;
  /** In the subtree at the marked path. */
  marked: boolean;
}

const samePath = (a: readonly PathSegment[], b: readonly PathSegment[] | null) =>
  b !== null && a.length === b.length && a.every((s, i) => s === b[i]);

/** `value` pretty-printed (two spaces), each line saying whether it is part of the subtree at `mark` (null: nothing marked). */
export function jsonLines(value: unknown, mark: readonly PathSegment[] | null): JsonLine[] {
  const out: JsonLine[] = [];
  const walk = (v: unknown, path: PathSegment[], depth: number, prefix: string, suffix: string, inside: boolean) => {
    const marked = inside || samePath(path, mark);
    const pad = "  ".repeat(depth);
    const entries: [PathSegment, unknown][] | null = Array.isArray(v)
      ? v.map((x, i) => [i, x])
      : v !== null && typeof v === "object"
        ? Object.entries(v as Record<string, unknown>)
        : null;
    if (entries === null || entries.length === 0) {
      const text = entries === null ? (JSON.stringify(v) ?? String(v)) : Array.isArray(v) ? "[]" : "{}";
      out.push({ text: `${pad}${prefix}${text}${suffix}`, marked });
      return;
    }
    const [open, close] = Array.isArray(v) ? ["[", "]"] : ["{", "}"];
    out.push({ text: `${pad}${prefix}${open}`, marked });
    entries.forEach(([key, child], i) => {
      const childPrefix = typeof key === "number" ? "" : `${JSON.stringify(key)}: `;
      walk(child, [...path, key], depth + 1, childPrefix, i < entries.length - 1 ? "," : "", marked);
    });
    out.push({ text: `${pad}${close}${suffix}`, marked });
  };
  if (typeof value === "string") {
    // Not JSON: the text as it is, marked whole when the path is the root.
    return value.split("\n").map((text) => ({ text, marked: mark !== null && mark.length === 0 }));
  }
  walk(value, [], 0, "", "", false);
  return out;
}
