import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { quotaErrorsFromApi, quotaRefusal, quotaForm, quotaMeasures, quotaSummary, validateQuota, type QuotaForm } from "./quotas";

const NONE = { maxVcpu: null, maxMemoryGb: null, maxReplicas: null, maxModels: null };

describe("quota measures", () => {
  it("says each bound as 'used of limit', and 'no limit' for a null bound", () => {
    const shown = quotaMeasures(
      { maxVcpu: 4, maxMemoryGb: null, maxReplicas: 3, maxModels: 1 },
      { vcpu: 1.5, memoryGb: 3, replicas: 3, models: 1 },
    );
    expect(shown.map((m) => m.text)).toEqual(["1.5 of 4 vCPU", "3 GB in use · no limit", "3 of 3 replicas", "1 of 1 model"]);
    expect(shown.map((m) => m.share)).toEqual([0.375, null, 1, 1]);
    expect(shown.map((m) => m.level)).toEqual(["ok", "ok", "full", "full"]);
  });

  it("warns from 80%, and says so when a lowered quota is below what runs", () => {
    const [vcpu, , replicas, models] = quotaMeasures(
      { maxVcpu: 1, maxMemoryGb: null, maxReplicas: 2, maxModels: 0 },
      { vcpu: 0.8, memoryGb: 0, replicas: 5, models: 0 },
    );
    expect(vcpu?.level).toBe("high");
    expect(replicas).toMatchObject({ level: "over", share: 1, text: "5 of 2 replicas (over the quota)" });
    // A bound of 0: nothing may be made; the bar is full although nothing is used.
    expect(models).toMatchObject({ level: "full", share: 1, text: "0 of 0 models" });
  });

  it("sums up the bounds for the projects list", () => {
    expect(quotaSummary(NONE)).toBe("no limits");
    expect(quotaSummary({ ...NONE, maxVcpu: 0.5, maxReplicas: 1 })).toBe("0.5 vCPU · 1 replica");
    expect(quotaSummary({ maxVcpu: 100_000, maxMemoryGb: 8, maxReplicas: 3, maxModels: 10 })).toBe(
      "100,000 vCPU · 8 GB · 3 replicas · 10 models",
    );
  });
});

describe("the quota form", () => {
  const typed = (patch: Partial<QuotaForm>): QuotaForm => ({ ...quotaForm(NONE), ...patch });

  it("starts from the quota, empty for no bound", () => {
    expect(quotaForm({ maxVcpu: 1.5, maxMemoryGb: null, maxReplicas: 0, maxModels: 12 })).toEqual({
      maxVcpu: "1.5",
      maxMemoryGb: "",
      maxReplicas: "0",
      maxModels: "12",
    });
  });

  it("sends every bound, null for an empty one", () => {
    expect(validateQuota(typed({ maxVcpu: " 4 ", maxMemoryGb: ".5", maxReplicas: "0" }))).toEqual({
      errors: {},
      body: { maxVcpu: 4, maxMemoryGb: 0.5, maxReplicas: 0, maxModels: null },
    });
    expect(validateQuota(typed({})).body).toEqual(NONE);
  });

  it("refuses what the API refuses, on the field", () => {
    const vcpu = "Enter a number above 0 and at most 100,000, or leave it empty for no limit.";
    const count = "Enter a whole number from 0 to 100,000, or leave it empty for no limit.";
    expect(validateQuota(typed({ maxVcpu: "0" })).errors).toEqual({ maxVcpu: vcpu });
    expect(validateQuota(typed({ maxVcpu: "-1" })).errors).toEqual({ maxVcpu: vcpu });
    expect(validateQuota(typed({ maxVcpu: "100001" })).errors).toEqual({ maxVcpu: vcpu });
    expect(validateQuota(typed({ maxMemoryGb: "4 GB" })).errors.maxMemoryGb).toBe(
      "Enter a number above 0 and at most 1,000,000, or leave it empty for no limit.",
    );
    expect(validateQuota(typed({ maxReplicas: "1.5" })).errors).toEqual({ maxReplicas: count });
    expect(validateQuota(typed({ maxModels: "1e3" })).errors).toEqual({ maxModels: count });
    expect(validateQuota(typed({ maxModels: "100001" })).errors).toEqual({ maxModels: count });
    expect(validateQuota(typed({ maxReplicas: "x", maxModels: "-2" })).body).toBeNull();
  });

  it("places the API's 422 details on their fields", () => {
    expect(
      quotaErrorsFromApi([
        { field: "maxReplicas", message: "Input should be less than or equal to 100000" },
        { field: "other", message: "Extra inputs are not permitted" },
        { field: "", message: "bad body" },
      ]),
    ).toEqual({
      errors: { maxReplicas: "Input should be less than or equal to 100000" },
      unplaced: ["other: Extra inputs are not permitted", "bad body"],
    });
  });
});

describe("a quota's refusal", () => {
  it("is the 409 quota_exceeded, said as a sentence; a stale revision's 409 is not one", () => {
    const message = "project pricing has a quota of 3 replicas: 3 in use, 1 more asked, 0 left";
    expect(quotaRefusal(new ApiError(409, "quota_exceeded", message))).toBe(
      "Project pricing has a quota of 3 replicas: 3 in use, 1 more asked, 0 left.",
    );
    expect(quotaRefusal(new ApiError(409, "conflict", "the model has changed"))).toBeNull();
    expect(quotaRefusal(new ApiError(403, "forbidden", "no"))).toBeNull();
    expect(quotaRefusal(new Error(message))).toBeNull();
  });
});
