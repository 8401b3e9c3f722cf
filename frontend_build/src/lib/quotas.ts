/**
 * Project quotas, the pure part: each bound with what is in use ("1.5 of 4 vCPU", a share for the bar, or
 * "no limit"), a one-line summary for the projects list, and the stage admin's quota form: the four bounds as
 * typed (empty: no bound), checked by the API's rules (QuotaBody) before a round trip, and the API's 422
 * details placed on the same fields.
 */
import { ApiError } from "../api/client";
import type { Quota, QuotaBody, Usage } from "../api/types";
import { sentence } from "./format";

export type QuotaKey = keyof QuotaBody & keyof Quota;

interface Bound {
  key: QuotaKey;
  usage: keyof Usage;
  label: string;
  /** The unit after a number: singular and plural. */
  unit: [string, string];
  integer: boolean;
  /** The API's range: above 0 for vCPU and memory, from 0 for counts (0: none may run, or be made). */
  min: number;
  exclusiveMin: boolean;
  max: number;
}

/** The API's QuotaBody, one bound each. */
export const QUOTA_BOUNDS: readonly Bound[] = [
  { key: "maxVcpu", usage: "vcpu", label: "vCPU", unit: ["vCPU", "vCPU"], integer: false, min: 0, exclusiveMin: true, max: 100_000 },
  {
    key: "maxMemoryGb",
    usage: "memoryGb",
    label: "Memory",
    unit: ["GB", "GB"],
    integer: false,
    min: 0,
    exclusiveMin: true,
    max: 1_000_000,
  },
  {
    key: "maxReplicas",
    usage: "replicas",
    label: "Replicas",
    unit: ["replica", "replicas"],
    integer: true,
    min: 0,
    exclusiveMin: false,
    max: 100_000,
  },
  {
    key: "maxModels",
    usage: "models",
    label: "Models",
    unit: ["model", "models"],
    integer: true,
    min: 0,
    exclusiveMin: false,
    max: 100_000,
  },
];

function amount(value: number): string {
  return value.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

function withUnit(value: number, unit: [string, string]): string {
  return `${amount(value)} ${value === 1 ? unit[0] : unit[1]}`;
}

export type QuotaLevel = "ok" | "high" | "full" | "over";

export interface QuotaMeasure {
  key: QuotaKey;
  label: string;
  used: number;
  /** null: no bound. */
  limit: number | null;
  /** "1.5 of 4 vCPU", "2 models in use · no limit". */
  text: string;
  /** The bar's share, 0..1 (capped); null without a bound. */
  share: number | null;
  /** ok below 80%, high from 80%, full at the bound, over it (a quota lowered below what runs stops nothing). */
  level: QuotaLevel;
}

export function quotaMeasures(quota: Quota, usage: Usage): QuotaMeasure[] {
  return QUOTA_BOUNDS.map((b) => {
    const used = usage[b.usage];
    const limit = quota[b.key];
    if (limit === null || limit === undefined) {
      return {
        key: b.key,
        label: b.label,
        used,
        limit: null,
        text: `${withUnit(used, b.unit)} in use · no limit`,
        share: null,
        level: "ok",
      };
    }
    const share = limit <= 0 ? 1 : Math.min(1, used / limit);
    const level: QuotaLevel = used > limit ? "over" : used === limit || share >= 1 ? "full" : share >= 0.8 ? "high" : "ok";
    const text = `${amount(used)} of ${withUnit(limit, b.unit)}${level === "over" ? " (over the quota)" : ""}`;
    return { key: b.key, label: b.label, used, limit, text, share, level };
  });
}

/** The bounds in one line for the projects list: "4 vCPU · 3 replicas", or "no limits". */
export function quotaSummary(quota: Quota): string {
  const bounded = QUOTA_BOUNDS.filter((b) => quota[b.key] !== null && quota[b.key] !== undefined);
  if (bounded.length === 0) return "no limits";
  return bounded.map((b) => withUnit(quota[b.key] as number, b.unit)).join(" · ");
}

/** The quota form: each bound as typed; "" is no bound. */
export type QuotaForm = Record<QuotaKey, string>;
export type QuotaErrors = Partial<Record<QuotaKey, string>>;

export function quotaForm(quota: Quota): QuotaForm {
  const form = {} as QuotaForm;
  for (const b of QUOTA_BOUNDS) form[b.key] = quota[b.key] === null || quota[b.key] === undefined ? "" : String(quota[b.key]);
  return form;
}

function rule(b: Bound): string {
  const range = b.integer
    ? `a whole number from ${amount(b.min)} to ${amount(b.max)}`
    : `a number above ${amount(b.min)} and at most ${amount(b.max)}`;
  return `Enter ${range}, or leave it empty for no limit.`;
}

/** The quota form checked as the API checks QuotaBody: the body to send, or the errors by field. */
export function validateQuota(form: QuotaForm): { errors: QuotaErrors; body: QuotaBody | null } {
  const errors: QuotaErrors = {};
  const body: QuotaBody = {};
  for (const b of QUOTA_BOUNDS) {
    const typed = form[b.key].trim();
    if (typed === "") {
      body[b.key] = null;
      continue;
    }
    const shape = b.integer ? /^\d+$/ : /^(\d+(\.\d*)?|\.\d+)$/;
    const value = Number(typed);
    const inRange = (b.exclusiveMin ? value > b.min : value >= b.min) && value <= b.max;
    if (!shape.test(typed) || !Number.isFinite(value) || !inRange) errors[b.key] = rule(b);
    else body[b.key] = value;
  }
  return Object.keys(errors).length ? { errors, body: null } : { errors, body };
}

/** The API's 422 details on the quota's fields ("maxVcpu"); the rest, as "field: message". */
export function quotaErrorsFromApi(details: readonly { field: string; message: string }[]): { errors: QuotaErrors; unplaced: string[] } {
  const errors: QuotaErrors = {};
  const unplaced: string[] = [];
  const keys = new Set<string>(QUOTA_BOUNDS.map((b) => b.key));
  for (const { field, message } of details) {
    if (keys.has(field)) errors[field as QuotaKey] = message;
    else unplaced.push(field ? `${field}: ${message}` : message);
  }
  return { errors, unplaced };
}

/** The quota's refusal as a sentence ("Project pricing has a quota of 3 replicas: …"), or null for any other error. */
export function quotaRefusal(error: unknown): string | null {
  return error instanceof ApiError && error.isQuotaExceeded ? sentence(error.message) : null;
}
