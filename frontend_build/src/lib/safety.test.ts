import { describe, expect, it } from "vitest";
import type { Rollout } from "../api/safety-types";
import { lineShadow, modelRollout } from "../api/safety-types";
import { ApiError, isTransient } from "../api/client";
import { compared, describeRule, formatMs, formatRate, jsonLines, parseWhere, readBody, validateRule } from "./comparison";
import { deploymentLines, shadowProblem, type DeployRow } from "./deployments";
import { defaultReplayForm, presetBounds, replayErrorsFromApi, replayFraction, validStatusFilter, validateReplayForm } from "./replays";
import {
  allowedActions,
  defaultRolloutForm,
  formatSeconds,
  isActive,
  parseSteps,
  rolloutBanner,
  rolloutErrorsFromApi,
  rolloutProgress,
  rolloutStamp,
  stepsProblem,
  validateRolloutForm,
} from "./rollouts";

const T0 = Date.parse("2026-05-01T12:00:00Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

const ROLLOUT: Rollout = {
  candidateVersion: 3,
  baselineVersion: 1,
  steps: [20, 50, 100],
  bakeSeconds: 10,
  guardrails: { max5xxRate: 0.01, max4xxIncrease: 0.05, maxP99Ratio: 1.5, minMatchRate: null, minRequests: 20 },
  status: "RUNNING",
  step: 1,
  stepStartedAt: at(0),
  startedBy: "admin",
  startedAt: at(-30),
  endedAt: null,
  reason: null,
  decisions: [{ at: at(-30), step: 0, weight: 20, verdict: "advance", actor: "admin", reason: "started", numbers: null }],
};

describe("rollout form", () => {
  it("reads steps as whole percentages, rising and ending at 100", () => {
    expect(parseSteps("5, 25 50,100")).toEqual([5, 25, 50, 100]);
    expect(parseSteps("5, x")).toBeNull();
    expect(parseSteps("")).toBeNull();
    expect(stepsProblem([20, 50, 100])).toBeNull();
    expect(stepsProblem([50, 20, 100])).toMatch(/more than the one before/);
    expect(stepsProblem([20, 50])).toMatch(/last step must be 100/);
    expect(stepsProblem([0, 100])).toMatch(/from 1 to 100/);
    expect(stepsProblem(null)).toMatch(/whole percentages/);
  });

  it("sends percentages as rates and the contract's guardrail names", () => {
    const form = { ...defaultRolloutForm(3), steps: "20, 50, 100", bakeSeconds: "5", minRequests: "10", message: " canary " };
    const { body, errors } = validateRolloutForm(form);
    expect(errors).toEqual({});
    expect(body).toEqual({
      candidateVersion: 3,
      steps: [20, 50, 100],
      bakeSeconds: 5,
      guardrails: { max5xxRate: 0.01, max4xxIncrease: 0.05, maxP99Ratio: 1.5, minMatchRate: null, minRequests: 10 },
      message: "canary",
    });
    expect(validateRolloutForm({ ...form, minMatchPercent: "99.5" }).body?.guardrails.minMatchRate).toBe(0.995);
  });

  it("says what is wrong per field", () => {
    const { body, errors } = validateRolloutForm({
      ...defaultRolloutForm(null),
      bakeSeconds: "2",
      max5xxPercent: "101",
      maxP99Ratio: "0.5",
      minRequests: "0",
    });
    expect(body).toBeNull();
    expect(Object.keys(errors).sort()).toEqual(["bakeSeconds", "candidateVersion", "max5xxPercent", "maxP99Ratio", "minRequests"]);
  });
});

describe("rollout progress", () => {
  it("marks steps done, current and to come, with the bake elapsed", () => {
    const p = rolloutProgress(ROLLOUT, T0 + 4000);
    expect(p.steps.map((s) => s.state)).toEqual(["done", "current", "pending"]);
    expect(p.weight).toBe(50);
    expect(p.bakeElapsed).toBe(4);
    expect(p.bakeFraction).toBeCloseTo(0.4);
    expect(p.bakeLeft).toBe(6);
    // Never past the bake time.
    expect(rolloutProgress(ROLLOUT, T0 + 60_000).bakeElapsed).toBe(10);
  });

  it("has no bake while a step's switch runs", () => {
    expect(rolloutProgress({ ...ROLLOUT, stepStartedAt: null }, T0).bakeElapsed).toBeNull();
  });

  it("marks the step where it was rolled back, and stops its clock at the end", () => {
    const ended = { ...ROLLOUT, status: "ROLLED_BACK" as const, endedAt: at(3), reason: "rolled back at step 2 (50%): 5xx rate 20%" };
    const p = rolloutProgress(ended, T0 + 60_000);
    expect(p.steps.map((s) => s.state)).toEqual(["done", "failed", "pending"]);
    expect(p.bakeElapsed).toBe(3);
    expect(isActive(ended)).toBe(false);
    expect(allowedActions(ended)).toEqual([]);
    expect(rolloutBanner(ended)).toEqual({
      tone: "error",
      text: "The rollout of v3 was rolled back to v1: rolled back at step 2 (50%): 5xx rate 20%",
    });
  });

  it("stops a paused bake at its pause", () => {
    const paused: Rollout = {
      ...ROLLOUT,
      status: "PAUSED",
      decisions: [
        ...ROLLOUT.decisions,
        { at: at(2), step: 1, weight: 50, verdict: "pause", actor: "admin", reason: "paused", numbers: null },
      ],
    };
    expect(rolloutProgress(paused, T0 + 9000).bakeElapsed).toBe(2);
    expect(allowedActions(paused)).toEqual(["resume", "promote", "abort"]);
    expect(rolloutBanner(paused)?.tone).toBe("warning");
  });

  it("shows every step done once it succeeded, and no banner", () => {
    const done = { ...ROLLOUT, status: "SUCCEEDED" as const, step: 2, endedAt: at(20) };
    expect(rolloutProgress(done).steps.map((s) => s.state)).toEqual(["done", "done", "done"]);
    expect(rolloutBanner(done)).toBeNull();
    expect(rolloutBanner(null)).toBeNull();
  });

  it("says a running rollout's step, and that it is switching", () => {
    expect(rolloutBanner(ROLLOUT)?.text).toBe("Rolling out v3: step 2 of 3 (50%).");
    expect(rolloutBanner({ ...ROLLOUT, stepStartedAt: null })?.text).toBe("Rolling out v3: step 2 of 3 (50%), switching.");
  });

  it("stamps what moves: the step, its switch, a decision, the status", () => {
    const stamp = rolloutStamp(ROLLOUT);
    expect(rolloutStamp(null)).toBe("");
    expect(rolloutStamp({ ...ROLLOUT })).toBe(stamp);
    expect(rolloutStamp({ ...ROLLOUT, stepStartedAt: null })).not.toBe(stamp);
    expect(rolloutStamp({ ...ROLLOUT, status: "ROLLED_BACK" })).not.toBe(stamp);
    expect(rolloutStamp({ ...ROLLOUT, decisions: [...ROLLOUT.decisions, ROLLOUT.decisions[0]!] })).not.toBe(stamp);
  });

  it("formats seconds", () => {
    expect(formatSeconds(45)).toBe("45 s");
    expect(formatSeconds(250)).toBe("4 min 10 s");
    expect(formatSeconds(300)).toBe("5 min");
    expect(formatSeconds(3900)).toBe("1 h 5 min");
  });

  it("reads the model's rollout, null when it never had one", () => {
    expect(modelRollout({ rollout: null })).toBeNull();
    expect(modelRollout({ rollout: ROLLOUT as never })).toBe(ROLLOUT);
  });
});

describe("replay form", () => {
  it("sends the last 24 hours of 2xx answers by default", () => {
    const now = Date.parse("2026-05-02T10:00:00Z");
    const { body, errors } = validateReplayForm(defaultReplayForm(2), now);
    expect(errors).toEqual({});
    expect(body).toEqual({
      candidateVersion: 2,
      source: { start: "2026-05-01T10:00:00.000Z", end: "2026-05-02T10:00:00.000Z", status: "2xx", limit: 500 },
      rule: { kind: "exact", absolute: 0, relative: 0 },
      ratePerSecond: 20,
    });
  });

  it("takes yesterday from local midnight to midnight", () => {
    const now = new Date(2026, 4, 2, 15, 30).getTime();
    const { start, end } = presetBounds("yesterday", now);
    expect(new Date(start).getDate()).toBe(1);
    expect(new Date(start).getHours()).toBe(0);
    expect(Date.parse(end) - Date.parse(start)).toBe(86_400_000);
  });

  it("refuses a bad range, status, limit, rule or rate", () => {
    const { body, errors } = validateReplayForm({
      ...defaultReplayForm(null),
      range: "custom",
      start: "2026-05-02T10:00",
      end: "2026-05-02T09:00",
      status: "2x",
      limit: "0",
      rule: { kind: "tolerance", absolute: "0", relative: "" },
      rate: "101",
    });
    expect(body).toBeNull();
    expect(Object.keys(errors).sort()).toEqual(["candidateVersion", "limit", "range", "rate", "rule", "status"]);
    expect(validStatusFilter("")).toBe(true);
    expect(validStatusFilter("503")).toBe(true);
    expect(validStatusFilter("4XX")).toBe(true);
    expect(validStatusFilter("600")).toBe(false);
  });

  it("sends every status as null", () => {
    expect(validateReplayForm({ ...defaultReplayForm(2), status: " " }).body?.source?.status).toBeNull();
  });

  it("measures progress, complete once a replay with nothing to send ends", () => {
    expect(replayFraction({ status: "RUNNING", progress: { done: 5, total: 20 } })).toBe(0.25);
    expect(replayFraction({ status: "RUNNING", progress: { done: 0, total: 0 } })).toBe(0);
    expect(replayFraction({ status: "SUCCEEDED", progress: { done: 0, total: 0 } })).toBe(1);
  });
});

describe("comparison", () => {
  it("validates and describes a rule", () => {
    expect(validateRule({ kind: "exact", absolute: "x", relative: "" })).toEqual({
      rule: { kind: "exact", absolute: 0, relative: 0 },
      error: null,
    });
    expect(validateRule({ kind: "tolerance", absolute: "0.01", relative: "" }).rule).toEqual({
      kind: "tolerance",
      absolute: 0.01,
      relative: 0,
    });
    expect(validateRule({ kind: "tolerance", absolute: "-1", relative: "" }).error).toMatch(/0 or more/);
    expect(validateRule({ kind: "tolerance", absolute: "0", relative: "0" }).error).toMatch(/above 0/);
    expect(describeRule({ kind: "exact", absolute: 0, relative: 0 })).toBe("exact");
    expect(describeRule({ kind: "tolerance", absolute: 0.01, relative: 0.01 })).toBe("within 0.01 + 1% of the larger");
  });

  it("formats rates, milliseconds and counts", () => {
    expect(formatRate(0.8)).toBe("80%");
    expect(formatRate(1)).toBe("100%");
    expect(formatRate(0.98765)).toBe("98.77%");
    expect(formatRate(null)).toBe("—");
    expect(formatMs(12.345)).toBe("12.3 ms");
    expect(formatMs(250.4)).toBe("250 ms");
    expect(formatMs(null)).toBe("—");
    expect(compared({ matched: 24, differed: 6, errored: 1, skipped: 3 })).toBe(31);
  });

  it("reads a difference's path", () => {
    expect(parseWhere("$")).toEqual([]);
    expect(parseWhere("$.results[0]")).toEqual(["results", 0]);
    expect(parseWhere("$.items.length")).toEqual(["items"]);
    expect(parseWhere("$[2].label")).toEqual([2, "label"]);
  });

  it("marks the lines of the differing value in a pretty-printed body", () => {
    const body = readBody('{"results":[50],"model":"v1"}');
    const lines = jsonLines(body, parseWhere("$.results[0]"));
    expect(lines.map((l) => l.text)).toEqual(["{", '  "results": [', "    50", "  ],", '  "model": "v1"', "}"]);
    expect(lines.filter((l) => l.marked).map((l) => l.text.trim())).toEqual(["50"]);
    // A whole subtree, and text that is not JSON.
    expect(jsonLines(body, ["results"]).filter((l) => l.marked)).toHaveLength(3);
    expect(jsonLines(readBody("Internal error"), [])).toEqual([{ text: "Internal error", marked: true }]);
    expect(jsonLines(body, null).some((l) => l.marked)).toBe(false);
  });
});

describe("shadow settings", () => {
  const row: DeployRow = {
    version: 2,
    included: true,
    weight: "0",
    replicas: 1,
    containerCpu: 0.25,
    containerMemory: 0.5,
    autoscale: false,
    maxReplicas: 3,
    targetCpuPercent: "",
    targetRequestsPerReplica: "",
    spot: false,
    shadow: true,
    shadowPercent: "25",
    shadowRule: { kind: "tolerance", absolute: "0.5", relative: "" },
  };

  it("needs weight 0 and a share from 1 to 100", () => {
    expect(shadowProblem(row)).toBeNull();
    expect(shadowProblem({ ...row, weight: "10" })).toMatch(/weight to 0/);
    expect(shadowProblem({ ...row, shadowPercent: "0" })).toMatch(/1 to 100%/);
    expect(shadowProblem({ ...row, shadow: false, weight: "10" })).toBeNull();
  });

  it("sends the shadow only on a shadow line", () => {
    const [line] = deploymentLines([row]);
    expect(line?.shadow).toEqual({ percent: 25, rule: { kind: "tolerance", absolute: 0.5, relative: 0 } });
    expect(deploymentLines([{ ...row, shadow: false }])[0]).not.toHaveProperty("shadow");
  });

  it("reads a line's shadow with its defaults", () => {
    expect(lineShadow({ shadow: null })).toBeNull();
    expect(lineShadow({ shadow: { percent: 10 } })).toEqual({
      percent: 10,
      rule: { kind: "exact", absolute: 0, relative: 0 },
      since: null,
    });
  });
});

describe("isTransient", () => {
  it("retries the network, throttling and 5xx, not other 4xx or an abort", () => {
    expect(isTransient(new ApiError(0, "network", "offline"))).toBe(true);
    expect(isTransient(new ApiError(503, "unavailable", "later"))).toBe(true);
    expect(isTransient(new ApiError(429, "throttled", "slow down"))).toBe(true);
    expect(isTransient(new ApiError(404, "not_found", "gone"))).toBe(false);
    expect(isTransient(new ApiError(403, "forbidden", "no"))).toBe(false);
    expect(isTransient(new TypeError("Failed to fetch"))).toBe(true);
    expect(isTransient(new DOMException("aborted", "AbortError"))).toBe(false);
  });
});

describe("the API's 422 details on the forms", () => {
  it("places a rollout's details on their fields, whatever the guardrails' spelling", () => {
    const { placed, rest } = rolloutErrorsFromApi([
      { field: "guardrails.max5xxRate", message: "Extra inputs are not permitted" },
      { field: "guardrails.max4XxIncrease", message: "too big" },
      { field: "steps.2", message: "at most 100" },
      { field: "whatever", message: "odd" },
    ]);
    expect(placed).toEqual({ max5xxPercent: "Extra inputs are not permitted", max4xxIncreasePoints: "too big", steps: "at most 100" });
    expect(rest).toEqual(["whatever: odd"]);
  });

  it("places a replay's details on their fields", () => {
    const { placed, rest } = replayErrorsFromApi([
      { field: "source", message: "a replay reads at most 15 days of history" },
      { field: "source.limit", message: "at most 5000" },
      { field: "rule.absolute", message: "a number" },
      { field: "", message: "no field" },
    ]);
    expect(placed).toEqual({ range: "a replay reads at most 15 days of history", limit: "at most 5000", rule: "a number" });
    expect(rest).toEqual(["no field"]);
  });
});
