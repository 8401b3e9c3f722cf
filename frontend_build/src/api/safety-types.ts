/**
 * The shapes of issue 19's safe rollouts (replays, shadow traffic, canary rollouts), as the console sees them:
 * names for the generated types (schema.d.ts), so a change of the API's schemas shows here as a type error.
 */
import type * as Api from "./schema";

/** How a candidate's answer is judged against the serving version's: equal, or numbers within a tolerance. */
export type ComparisonRule = Api.ComparisonRuleResponse;
/** Milliseconds; null when nothing was measured. */
export type Latency = Api.LatencyResponse;
export type ComparisonCounts = Api.CountsResponse;
/** One of the largest differences: the request, both answers (as captured, JSON text), where they differ and by how much (null: shape or error). */
export type LargestDifference = Api.DifferenceResponse;

export type ReplayStatus = Api.ReplayStatus;
export const REPLAY_STATUSES = ["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"] as const satisfies readonly ReplayStatus[];
export type ReplaySource = Api.ReplaySourceSettings;
/** Body of POST /models/{id}/replays. */
export type ReplayRequest = Api.ReplayRequest;
export type Replay = Api.ReplayResponse;

/** A version at weight 0 that gets a copy of `percent` of the traffic, its answers compared by `rule`. */
export type ShadowSpec = Api.ShadowResponse;
/** GET /models/{id}/shadow: one item per shadow version, its tally since it became one. */
export type ShadowResult = Api.ShadowTallyResponse;

/** A rollout's guardrails; rates are 0..1 (`max5xxRate`: the status class as it is written). */
export type Guardrails = Api.GuardrailsResponse;
/** What a step was judged on; null where nothing was measured. */
export type DecisionNumbers = Api.StepNumbersResponse;

/** Body of POST /models/{id}/rollout, as the console sends it: every field given. */
export type RolloutRequest = Omit<Api.RolloutRequest, "guardrails" | "steps"> & {
  steps: number[];
  guardrails: Guardrails;
};

export type RolloutStatus = Api.RolloutStatus;
export type RolloutVerdict = Api.Verdict;
export type RolloutAction = "pause" | "resume" | "promote" | "abort";
/** One decision: a step advanced, rolled back, paused… by whom and why; `numbers` is null for people's actions. */
export type RolloutDecision = Api.DecisionResponse;
export type Rollout = Api.RolloutResponse;

/** The model's current or last rollout (`rollout` of the model), null when it never had one. */
export function modelRollout(model: Pick<Api.ModelResponse, "rollout">): Rollout | null {
  return model.rollout ?? null;
}

/** A deployed version's shadow settings, null when it is not a shadow. */
export function lineShadow(line: { shadow?: ShadowSpec | Api.ShadowSettings | null }): ShadowSpec | null {
  const shadow = line.shadow;
  if (!shadow) return null;
  return {
    percent: shadow.percent,
    rule: { kind: shadow.rule?.kind ?? "exact", absolute: shadow.rule?.absolute ?? 0, relative: shadow.rule?.relative ?? 0 },
    since: "since" in shadow ? (shadow.since ?? null) : null,
  };
}
