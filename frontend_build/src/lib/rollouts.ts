/**
 * The pure parts of a canary rollout in the console: the start form (steps, bake time, guardrails) and its
 * validation into the API's body, the progress drawn from a rollout (each step done, current, failed or to come;
 * the current step's bake time elapsed), and the banner the model page shows for a running or rolled-back one.
 */
import type { FieldError } from "../api/client";
import type { Guardrails, Rollout, RolloutAction, RolloutRequest, RolloutStatus } from "../api/safety-types";

export const DEFAULT_STEPS = [5, 25, 50, 100];
export const MAX_STEPS = 10;
export const MIN_BAKE_SECONDS = 5;
export const MAX_BAKE_SECONDS = 86_400;

/** The form as typed. Rates are typed as percentages (1 for 1%), the 4xx increase in percentage points. */
export interface RolloutForm {
  candidateVersion: string;
  steps: string;
  bakeSeconds: string;
  max5xxPercent: string;
  max4xxIncreasePoints: string;
  maxP99Ratio: string;
  /** "" for no match-rate guardrail. */
  minMatchPercent: string;
  minRequests: string;
  message: string;
}

export function defaultRolloutForm(candidateVersion: number | null): RolloutForm {
  return {
    candidateVersion: candidateVersion === null ? "" : String(candidateVersion),
    steps: DEFAULT_STEPS.join(", "),
    bakeSeconds: "300",
    max5xxPercent: "1",
    max4xxIncreasePoints: "5",
    maxP99Ratio: "1.5",
    minMatchPercent: "",
    minRequests: "20",
    message: "",
  };
}

export type RolloutFormErrors = Partial<Record<keyof RolloutForm, string>>;

/** "5, 25 50,100" -> [5, 25, 50, 100]; null when a part is not a whole number. */
export function parseSteps(text: string): number[] | null {
  const parts = text
    .split(/[\s,]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0 || parts.some((p) => !/^\d{1,3}$/.test(p))) return null;
  return parts.map(Number);
}

/** Why these steps cannot be a plan, or null: 1..100 each, rising, ending at 100. */
export function stepsProblem(steps: readonly number[] | null): string | null {
  if (steps === null) return "Give whole percentages separated by commas, such as 5, 25, 50, 100.";
  if (steps.length > MAX_STEPS) return `Use at most ${MAX_STEPS} steps.`;
  if (steps.some((s) => s < 1 || s > 100)) return "Each step is a share from 1 to 100%.";
  if (steps.some((s, i) => i > 0 && s <= (steps[i - 1] as number))) return "Each step must give the candidate more than the one before.";
  if (steps[steps.length - 1] !== 100) return "The last step must be 100 (the candidate serves everything).";
  return null;
}

const number = (text: string): number | null => {
  const t = text.trim();
  if (!/^\d*\.?\d+$/.test(t)) return null;
  return Number(t);
};

/** The body to send, or the problems per field. */
export function validateRolloutForm(form: RolloutForm): { body: RolloutRequest | null; errors: RolloutFormErrors } {
  const errors: RolloutFormErrors = {};
  const candidate = number(form.candidateVersion);
  if (candidate === null || !Number.isInteger(candidate) || candidate < 1) errors.candidateVersion = "Choose the version to roll out.";
  const steps = parseSteps(form.steps);
  const stepsError = stepsProblem(steps);
  if (stepsError) errors.steps = stepsError;
  const bake = number(form.bakeSeconds);
  if (bake === null || !Number.isInteger(bake) || bake < MIN_BAKE_SECONDS || bake > MAX_BAKE_SECONDS)
    errors.bakeSeconds = `Use whole seconds from ${MIN_BAKE_SECONDS} to ${MAX_BAKE_SECONDS} (a day).`;
  const max5xx = number(form.max5xxPercent);
  if (max5xx === null || max5xx > 100) errors.max5xxPercent = "A percentage from 0 to 100.";
  const max4xx = number(form.max4xxIncreasePoints);
  if (max4xx === null || max4xx > 100) errors.max4xxIncreasePoints = "Percentage points from 0 to 100.";
  const ratio = number(form.maxP99Ratio);
  if (ratio === null || ratio < 1) errors.maxP99Ratio = "A ratio of 1 or more (1.5: half as slow again).";
  let minMatch: number | null = null;
  if (form.minMatchPercent.trim() !== "") {
    minMatch = number(form.minMatchPercent);
    if (minMatch === null || minMatch > 100) errors.minMatchPercent = "A percentage from 0 to 100, or empty for none.";
  }
  const minRequests = number(form.minRequests);
  if (minRequests === null || !Number.isInteger(minRequests) || minRequests < 1)
    errors.minRequests = "A whole number of requests, 1 or more.";
  if (Object.keys(errors).length > 0) return { body: null, errors };
  const guardrails: Guardrails = {
    max5xxRate: round(max5xx! / 100),
    max4xxIncrease: round(max4xx! / 100),
    maxP99Ratio: ratio!,
    minMatchRate: minMatch === null ? null : round(minMatch / 100),
    minRequests: minRequests!,
  };
  return {
    body: { candidateVersion: candidate!, steps: steps!, bakeSeconds: bake!, guardrails, message: form.message.trim() },
    errors,
  };
}

/** The API's field names (lower case: the API may spell `max5xxRate` as `max5XxRate`) and the form's fields. */
const API_FIELDS: Record<string, keyof RolloutForm> = {
  candidateversion: "candidateVersion",
  steps: "steps",
  bakeseconds: "bakeSeconds",
  "guardrails.max5xxrate": "max5xxPercent",
  "guardrails.max4xxincrease": "max4xxIncreasePoints",
  "guardrails.maxp99ratio": "maxP99Ratio",
  "guardrails.minmatchrate": "minMatchPercent",
  "guardrails.minrequests": "minRequests",
  message: "message",
};

/** A 422's details on the form's fields (`steps.2` on steps); those of no field are left as sentences. */
export function rolloutErrorsFromApi(details: readonly FieldError[]): { placed: RolloutFormErrors; rest: string[] } {
  const placed: RolloutFormErrors = {};
  const rest: string[] = [];
  for (const d of details) {
    const field = d.field.toLowerCase();
    const key = API_FIELDS[field] ?? API_FIELDS[field.replace(/\.\d+$/, "")];
    if (key && !placed[key]) placed[key] = d.message;
    else if (!key) rest.push(d.field ? `${d.field}: ${d.message}` : d.message);
  }
  return { placed, rest };
}

// 0.01 stays 0.01 and not 0.010000000000000002.
const round = (n: number) => Number(n.toFixed(6));

export const ACTIVE: readonly RolloutStatus[] = ["RUNNING", "PAUSED"];

export function isActive(rollout: Rollout | null | undefined): rollout is Rollout {
  return !!rollout && ACTIVE.includes(rollout.status);
}

/** What changes when a rollout moves (a step, its switch, a decision, its end): "" for none. */
export function rolloutStamp(rollout: Rollout | null): string {
  if (!rollout) return "";
  return [rollout.startedAt, rollout.status, rollout.step, rollout.stepStartedAt ?? "", rollout.decisions.length].join("|");
}

export type StepState = "done" | "current" | "failed" | "stopped" | "pending";

export interface RolloutProgress {
  steps: { weight: number; state: StepState }[];
  /** The candidate's share at the current step. */
  weight: number;
  /** The current step's bake: seconds elapsed (at most bakeSeconds), its fraction 0..1; null while its switch runs. */
  bakeElapsed: number | null;
  bakeFraction: number | null;
  /** Seconds left in the bake, or null. */
  bakeLeft: number | null;
}

/** Where the rollout is, measured at `now` (ms): a paused bake stops at its pause, an ended one at its end. */
export function rolloutProgress(rollout: Rollout, now: number = Date.now()): RolloutProgress {
  const current = Math.min(Math.max(rollout.step, 0), rollout.steps.length - 1);
  const endState: StepState | null =
    rollout.status === "ROLLED_BACK" ? "failed" : rollout.status === "ABORTED" ? "stopped" : rollout.status === "SUCCEEDED" ? "done" : null;
  const steps = rollout.steps.map((weight, i) => ({
    weight,
    state: (i < current
      ? "done"
      : i === current
        ? (endState ?? "current")
        : rollout.status === "SUCCEEDED"
          ? "done"
          : "pending") as StepState,
  }));
  let bakeElapsed: number | null = null;
  if (rollout.stepStartedAt && rollout.status !== "SUCCEEDED") {
    const started = Date.parse(rollout.stepStartedAt);
    let until = now;
    if (rollout.status === "PAUSED") {
      const pause = rollout.decisions.findLast((d) => d.verdict === "pause");
      if (pause) until = Date.parse(pause.at);
    } else if (rollout.endedAt) until = Date.parse(rollout.endedAt);
    bakeElapsed = Math.min(Math.max(0, (until - started) / 1000), rollout.bakeSeconds);
  }
  const bakeFraction = bakeElapsed === null ? null : rollout.bakeSeconds > 0 ? bakeElapsed / rollout.bakeSeconds : 1;
  return {
    steps,
    weight: rollout.steps[current] ?? 0,
    bakeElapsed,
    bakeFraction,
    bakeLeft: bakeElapsed === null ? null : Math.max(0, rollout.bakeSeconds - bakeElapsed),
  };
}

/** "45 s", "4 min 10 s", "1 h 5 min". */
export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  const m = Math.floor((s % 3600) / 60);
  return m ? `${Math.floor(s / 3600)} h ${m} min` : `${s / 3600} h`;
}

/** The actions the rollout's state allows (the API answers 409 to the others). */
export function allowedActions(rollout: Rollout): RolloutAction[] {
  if (rollout.status === "RUNNING") return ["pause", "promote", "abort"];
  if (rollout.status === "PAUSED") return ["resume", "promote", "abort"];
  return [];
}

export interface RolloutBanner {
  tone: "error" | "info" | "warning";
  text: string;
}

/** What the model page says of its rollout: one running, paused or rolled back (the last one); nothing otherwise. */
export function rolloutBanner(rollout: Rollout | null | undefined): RolloutBanner | null {
  if (!rollout) return null;
  const v = `v${rollout.candidateVersion}`;
  const at = `step ${rollout.step + 1} of ${rollout.steps.length} (${rollout.steps[rollout.step] ?? 0}%)`;
  switch (rollout.status) {
    case "RUNNING":
      return { tone: "info", text: `Rolling out ${v}: ${at}${rollout.stepStartedAt ? "" : ", switching"}.` };
    case "PAUSED":
      return { tone: "warning", text: `The rollout of ${v} is paused at ${at}.` };
    case "ROLLED_BACK":
      return {
        tone: "error",
        text: `The rollout of ${v} was rolled back to v${rollout.baselineVersion}${rollout.reason ? `: ${rollout.reason}` : "."}`,
      };
    default:
      return null;
  }
}
