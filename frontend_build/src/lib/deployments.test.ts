import { describe, expect, it } from "vitest";
import type { DeployedVersion } from "../api/types";
import {
  type DeployRow,
  deploymentLines,
  diffSpecs,
  initialRows,
  libraryList,
  servingLoadWarnings,
  parseWeight,
  promote,
  replicaSummary,
  shortSha,
  specEquals,
  switching,
  validateDeployment,
  weightSum,
} from "./deployments";
import { alignByVersion } from "./metrics";

const row = (version: number, weight: string, patch: Partial<DeployRow> = {}): DeployRow => ({
  version,
  included: true,
  weight,
  replicas: 1,
  containerCpu: 0.5,
  containerMemory: 1,
  autoscale: false,
  maxReplicas: 3,
  targetCpuPercent: "",
  targetRequestsPerReplica: "",
  spot: false,
  shadow: false,
  shadowPercent: "10",
  shadowRule: { kind: "exact", absolute: "0", relative: "0" },
  ...patch,
});

const deployed = (version: number, weight: number, patch: Partial<DeployedVersion> = {}): DeployedVersion => ({
  version,
  weight,
  replicas: 1,
  containerCpu: 0.5,
  containerMemory: 1,
  libraries: {},
  loadWarnings: [],
  status: "RUNNING",
  statusReason: null,
  healthyReplicas: 1,
  servingWeight: weight,
  leaving: false,
  autoscaling: null,
  spot: false,
  shadow: null,
  ...patch,
});

const spec = (version: number, weight: number, patch: Record<string, unknown> = {}) => ({
  version,
  weight,
  replicas: 1,
  containerCpu: 0.5,
  containerMemory: 1,
  artifactSha256: `sha-${version}`,
  dockerImage: null,
  ...patch,
});

describe("weights", () => {
  it("parses only whole numbers from 0 to 100", () => {
    expect(parseWeight("0")).toBe(0);
    expect(parseWeight(" 90 ")).toBe(90);
    expect(parseWeight("100")).toBe(100);
    expect(parseWeight("101")).toBeNull();
    expect(parseWeight("1.5")).toBeNull();
    expect(parseWeight("-1")).toBeNull();
    expect(parseWeight("")).toBeNull();
    expect(parseWeight("1e2")).toBeNull();
  });

  it("sums the included rows only", () => {
    expect(weightSum([row(1, "90"), row(2, "10"), row(3, "50", { included: false })])).toBe(100);
    expect(weightSum([row(1, "90"), row(2, "x")])).toBe(90);
  });
});

describe("validateDeployment", () => {
  it("accepts integer weights that sum to 100", () => {
    const v = validateDeployment([row(1, "90"), row(2, "10")]);
    expect(v).toEqual({ sum: 100, ok: true, errors: {}, problem: null });
  });

  it("says what the sum is when it is not 100", () => {
    const v = validateDeployment([row(1, "90"), row(2, "20")]);
    expect(v.ok).toBe(false);
    expect(v.sum).toBe(110);
    expect(v.problem).toBe("The weights add up to 110; they must add up to 100.");
    expect(validateDeployment([row(1, "50")]).problem).toMatch(/add up to 50;/);
  });

  it("accepts a candidate at weight 0 next to one at 100", () => {
    expect(validateDeployment([row(1, "100"), row(2, "0")]).ok).toBe(true);
  });

  it("marks rows with a fractional weight, bad replicas or a size Fargate does not have", () => {
    const v = validateDeployment([
      row(1, "99.5"),
      row(2, "0", { replicas: 11 }),
      row(3, "0", { replicas: 0 }),
      row(4, "100", { containerCpu: 1, containerMemory: 1 }),
    ]);
    expect(v.ok).toBe(false);
    expect(v.problem).toBe("Fix the rows marked below.");
    expect(v.errors[1]).toMatch(/whole number/);
    expect(v.errors[2]).toMatch(/1 to 10 replicas/);
    expect(v.errors[3]).toMatch(/1 to 10 replicas/);
    expect(v.errors[4]).toBe("Choose one of 2, 3, 4, 5, 6, 7, 8 GB for 1 vCPU.");
  });

  it("needs at least one version", () => {
    expect(validateDeployment([row(1, "100", { included: false })]).problem).toBe("Pick at least one version.");
  });
});

describe("rows", () => {
  it("start from the current deployment, newest version first, ignoring versions leaving", () => {
    const rows = initialRows(
      [{ number: 1 }, { number: 2 }, { number: 3 }],
      [deployed(2, 100, { replicas: 2, containerCpu: 1, containerMemory: 2 }), deployed(1, 0, { servingWeight: 100 })],
      { containerCpu: 0.25, containerMemory: 0.5 },
    );
    expect(rows.map((r) => [r.version, r.included, r.weight, r.replicas, r.containerCpu])).toEqual([
      [3, false, "0", 1, 0.25],
      [2, true, "100", 2, 1],
      [1, false, "0", 1, 0.5],
    ]);
  });

  it("promote gives one version all the traffic and drops the others", () => {
    const rows = promote([row(1, "90"), row(2, "10")], 2);
    expect(deploymentLines(rows)).toEqual([
      { version: 2, weight: 100, replicas: 1, containerCpu: 0.5, containerMemory: 1, autoscaling: null, spot: false },
    ]);
    expect(validateDeployment(rows).ok).toBe(true);
  });
});

describe("autoscaling rows", () => {
  it("send the replicas as the minimum, the bounds and the targets given", () => {
    const scaled = row(1, "100", { autoscale: true, replicas: 2, maxReplicas: 5, targetRequestsPerReplica: "20" });
    expect(validateDeployment([scaled]).ok).toBe(true);
    expect(deploymentLines([scaled])[0]?.autoscaling).toEqual({
      minReplicas: 2,
      maxReplicas: 5,
      targetCpuPercent: null,
      targetRequestsPerReplica: 20,
    });
  });
  it("refuse bounds out of order, no target, or a target out of range, naming what to fix", () => {
    const check = (patch: Partial<DeployRow>) => validateDeployment([row(1, "100", { autoscale: true, ...patch })]).errors[1];
    expect(check({ replicas: 4, maxReplicas: 3, targetCpuPercent: "50" })).toMatch(/maximum from the minimum \(4\)/);
    expect(check({})).toMatch(/Give a target/);
    expect(check({ targetCpuPercent: "99" })).toMatch(/CPU target from 5 to 95/);
    expect(check({ targetRequestsPerReplica: "-1" })).toMatch(/request target above 0/);
  });
  it("start from the deployment's policy and show the bounds", () => {
    const policy = { minReplicas: 1, maxReplicas: 3, targetCpuPercent: 60, targetRequestsPerReplica: null };
    const [first] = initialRows([{ number: 1 }], [deployed(1, 100, { autoscaling: policy, replicas: 2 })], {
      containerCpu: 0.25,
      containerMemory: 0.5,
    });
    expect([first?.autoscale, first?.replicas, first?.maxReplicas, first?.targetCpuPercent]).toEqual([true, 1, 3, "60"]);
    expect(replicaSummary({ healthyReplicas: 2, replicas: 2, autoscaling: policy })).toBe("2 / 1–3 (autoscaled)");
    expect(replicaSummary({ healthyReplicas: 1, replicas: 1, autoscaling: null })).toBe("1 / 1");
  });
});

describe("diffSpecs", () => {
  it("describes the first entry", () => {
    expect(diffSpecs(null, [spec(1, 100)])).toEqual(["First deployment: v1 100%"]);
  });

  it("lists versions added and removed, weights, replicas, sizes and a new file", () => {
    expect(diffSpecs([spec(1, 100)], [spec(1, 90), spec(2, 10)])).toEqual([
      "v1 weight 100% → 90%",
      "v2 added: 10%, 1 replica, 0.5 vCPU, 1 GB",
    ]);
    expect(diffSpecs([spec(1, 90), spec(2, 10)], [spec(2, 100, { replicas: 3 })])).toEqual([
      "v1 removed (was 90%)",
      "v2 weight 10% → 100%",
      "v2 replicas 1 → 3",
    ]);
    expect(diffSpecs([spec(1, 100)], [spec(1, 100, { containerCpu: 1, containerMemory: 2, artifactSha256: "other" })])).toEqual([
      "v1 size 0.5 vCPU, 1 GB → 1 vCPU, 2 GB",
      "v1 runs a different file or image",
    ]);
  });

  it("is empty when nothing changed (a stop keeps the spec)", () => {
    expect(diffSpecs([spec(1, 90), spec(2, 10)], [spec(2, 10), spec(1, 90)])).toEqual([]);
  });
});

describe("the current deployment", () => {
  it("equals an entry with the same versions, weights, replicas and sizes", () => {
    expect(specEquals([spec(1, 90), spec(2, 10)], [deployed(2, 10), deployed(1, 90)])).toBe(true);
    expect(specEquals([spec(1, 90), spec(2, 10)], [deployed(2, 100)])).toBe(false);
    expect(specEquals([spec(2, 100)], [deployed(2, 100, { replicas: 2 })])).toBe(false);
  });

  it("ignores versions only draining, but not a deployed candidate at 0", () => {
    expect(specEquals([spec(2, 100)], [deployed(2, 100, { servingWeight: 0 }), deployed(1, 0, { servingWeight: 100 })])).toBe(true);
    expect(specEquals([spec(2, 100), spec(1, 0)], [deployed(2, 100), deployed(1, 0)])).toBe(true);
  });

  it("is switching while a version serves a share other than its target", () => {
    expect(switching([deployed(1, 90), deployed(2, 10)])).toBe(false);
    expect(switching([deployed(2, 100, { servingWeight: 0 }), deployed(1, 0, { servingWeight: 100 })])).toBe(true);
  });

  it("shortens digests", () => {
    expect(shortSha("0123456789abcdef0123")).toBe("0123456789ab");
    expect(shortSha(null)).toBe("");
  });
});

describe("metrics by version", () => {
  it("puts every version on the union of their times, null where a version had no period", () => {
    const m = (times: string[], values: number[]) => ({ period: 60, timestamps: times, series: { latencyAvg: values } });
    const aligned = alignByVersion(
      [
        { version: 1, metrics: m(["2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z"], [10, 11]) },
        { version: 2, metrics: m(["2024-01-01T00:01:00Z", "2024-01-01T00:02:00Z"], [20, 21]) },
      ],
      (x) => x.series.latencyAvg ?? [],
    );
    expect(aligned.times).toEqual([1704067200, 1704067260, 1704067320]);
    expect(aligned.series).toEqual([
      { version: 1, values: [10, 11, null] },
      { version: 2, values: [null, 20, 21] },
    ]);
  });
});

describe("load warnings and libraries", () => {
  const warning = "InconsistentVersionWarning: Trying to unpickle estimator LinearRegression from version 0.1 when using version 1.6.1.";

  it("warns of the versions that serve or are about to, not of one that has drained", () => {
    const deployment = [
      deployed(2, 90, { loadWarnings: [warning] }),
      deployed(1, 10),
      deployed(3, 0, { leaving: true, servingWeight: 0, loadWarnings: ["old warning"] }),
      deployed(4, 0, { leaving: true, servingWeight: 20, loadWarnings: ["still serving"] }),
    ];
    expect(servingLoadWarnings(deployment)).toEqual([
      { version: 2, warnings: [warning] },
      { version: 4, warnings: ["still serving"] },
    ]);
    expect(servingLoadWarnings([deployed(1, 100)])).toEqual([]);
    // A switch: the new version has its target but no traffic yet, and its file already warned.
    expect(servingLoadWarnings([deployed(5, 100, { servingWeight: 0, loadWarnings: [warning] })])).toEqual([
      { version: 5, warnings: [warning] },
    ]);
  });

  it("lists a version's libraries by name", () => {
    expect(libraryList({ "scikit-learn": "1.6.1", numpy: "2.2.0", joblib: "1.4.2" })).toEqual([
      ["joblib", "1.4.2"],
      ["numpy", "2.2.0"],
      ["scikit-learn", "1.6.1"],
    ]);
    expect(libraryList(undefined)).toEqual([]);
  });
});
