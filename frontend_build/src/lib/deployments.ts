/**
 * The pure rules of versions and deployments the screens share: the Deploy dialog's rows and their
 * validation (integer weights summing to 100, 1..10 replicas, Fargate sizes), "promote to 100%",
 * what changed between two history entries, and whether an entry is what runs now.
 */
import type { DeployedVersion, DeploymentLine, SpecLine } from "../api/types";
import { lineShadow } from "../api/safety-types";
import { EXACT_RULE_FORM, validateRule, type RuleForm } from "./comparison";
import { formatCpu, formatMemory } from "./format";
import { isFargateSize, memoryChoices } from "./validation";

export const MAX_REPLICAS = 10;
export const MAX_DEPLOYED_VERSIONS = 10;

/** One version in the Deploy dialog; `weight` is the text typed, so "" and "1.5" can be told apart. */
export interface DeployRow {
  version: number;
  included: boolean;
  weight: string;
  /** The count, or with autoscaling the minimum. */
  replicas: number;
  containerCpu: number;
  containerMemory: number;
  autoscale: boolean;
  maxReplicas: number;
  /** Texts typed; "" is no target of that kind. */
  targetCpuPercent: string;
  targetRequestsPerReplica: string;
  /** On Fargate Spot: cheaper, and AWS may take its tasks back. */
  spot: boolean;
  /** At weight 0 only: gets a copy of `shadowPercent` of the traffic, its answers compared by `shadowRule`. */
  shadow: boolean;
  shadowPercent: string;
  shadowRule: RuleForm;
}

const EXACT_RULE = { kind: "exact", absolute: 0, relative: 0 } as const;

/** Why a row's shadow settings cannot be sent, or null. */
export function shadowProblem(r: Pick<DeployRow, "shadow" | "weight" | "shadowPercent" | "shadowRule">): string | null {
  if (!r.shadow) return null;
  if (parseWeight(r.weight) !== 0) return "A shadow gets no traffic of its own: set its weight to 0.";
  const t = r.shadowPercent.trim();
  if (!/^\d{1,3}$/.test(t) || Number(t) < 1 || Number(t) > 100) return "Shadow 1 to 100% of the requests.";
  return validateRule(r.shadowRule).error;
}

const parseTarget = (text: string): number | null => (text.trim() === "" ? null : Number(text));

/** Why a row's autoscaling cannot be sent, or null. */
function autoscalingProblem(r: DeployRow): string | null {
  if (!r.autoscale) return null;
  if (!Number.isInteger(r.maxReplicas) || r.maxReplicas < r.replicas || r.maxReplicas > MAX_REPLICAS)
    return `Use a maximum from the minimum (${r.replicas}) to ${MAX_REPLICAS} replicas.`;
  const cpu = parseTarget(r.targetCpuPercent);
  const rate = parseTarget(r.targetRequestsPerReplica);
  if (cpu === null && rate === null) return "Give a target: CPU % and/or requests per second per replica.";
  if (cpu !== null && !(cpu >= 5 && cpu <= 95)) return "Use a CPU target from 5 to 95 %.";
  if (rate !== null && !(rate > 0 && rate <= 10000)) return "Use a request target above 0, up to 10000 per second.";
  return null;
}

export interface DeployValidation {
  /** The sum of the included rows' weights that parse as whole numbers. */
  sum: number;
  ok: boolean;
  /** Per version: what is wrong with its row. */
  errors: Record<number, string>;
  /** Why the deployment cannot be sent, for the submit button's side; null when it can. */
  problem: string | null;
}

/** The weight typed, as a whole number 0..100, or null when it is not one. */
export function parseWeight(text: string): number | null {
  const t = text.trim();
  if (!/^\d{1,3}$/.test(t)) return null;
  const n = Number(t);
  return n <= 100 ? n : null;
}

export function weightSum(rows: readonly DeployRow[]): number {
  return rows.filter((r) => r.included).reduce((acc, r) => acc + (parseWeight(r.weight) ?? 0), 0);
}

export function validateDeployment(rows: readonly DeployRow[]): DeployValidation {
  const included = rows.filter((r) => r.included);
  const errors: Record<number, string> = {};
  for (const r of included) {
    if (parseWeight(r.weight) === null) errors[r.version] = "Use a whole number from 0 to 100.";
    else if (!Number.isInteger(r.replicas) || r.replicas < 1 || r.replicas > MAX_REPLICAS)
      errors[r.version] = `Use 1 to ${MAX_REPLICAS} replicas.`;
    else if (!isFargateSize(r.containerCpu, r.containerMemory))
      errors[r.version] = `Choose one of ${memoryChoices(r.containerCpu).join(", ")} GB for ${r.containerCpu} vCPU.`;
    else {
      const scaling = autoscalingProblem(r) ?? shadowProblem(r);
      if (scaling) errors[r.version] = scaling;
    }
  }
  const sum = weightSum(rows);
  let problem: string | null = null;
  if (included.length === 0) problem = "Pick at least one version.";
  else if (included.length > MAX_DEPLOYED_VERSIONS) problem = `Deploy at most ${MAX_DEPLOYED_VERSIONS} versions at once.`;
  else if (Object.keys(errors).length > 0) problem = "Fix the rows marked below.";
  else if (sum !== 100) problem = `The weights add up to ${sum}; they must add up to 100.`;
  return { sum, ok: problem === null, errors, problem };
}

/**
 * The dialog's rows: every version that can run (an image, or a file uploaded), prefilled from the
 * current deployment (its target weights, replicas and sizes); the others start excluded, at the
 * model's size. Versions leaving the deployment (weight 0, not a target) are not included.
 */
export function initialRows(
  versions: readonly { number: number }[],
  deployment: readonly DeployedVersion[],
  defaults: { containerCpu: number; containerMemory: number },
): DeployRow[] {
  const targets = new Map(deployment.map((d) => [d.version, d]));
  return [...versions]
    .sort((a, b) => b.number - a.number)
    .map((v) => {
      const d = targets.get(v.number);
      const shadow = d ? lineShadow(d) : null;
      return {
        version: v.number,
        included: !!d && d.weight > 0,
        weight: d && d.weight > 0 ? String(d.weight) : "0",
        replicas: d?.autoscaling ? d.autoscaling.minReplicas : d && d.replicas > 0 ? d.replicas : 1,
        containerCpu: d?.containerCpu ?? defaults.containerCpu,
        containerMemory: d?.containerMemory ?? defaults.containerMemory,
        autoscale: !!d?.autoscaling,
        maxReplicas: d?.autoscaling?.maxReplicas ?? 3,
        targetCpuPercent: d?.autoscaling?.targetCpuPercent != null ? String(d.autoscaling.targetCpuPercent) : "",
        targetRequestsPerReplica: d?.autoscaling?.targetRequestsPerReplica != null ? String(d.autoscaling.targetRequestsPerReplica) : "",
        spot: d?.spot ?? false,
        shadow: !!shadow,
        shadowPercent: shadow ? String(shadow.percent) : "10",
        shadowRule: shadow
          ? { kind: shadow.rule.kind, absolute: String(shadow.rule.absolute), relative: String(shadow.rule.relative) }
          : EXACT_RULE_FORM,
      };
    });
}

/** "Promote to 100%": that version alone, with all the traffic; the others leave the deployment. */
export function promote(rows: readonly DeployRow[], version: number): DeployRow[] {
  return rows.map((r) =>
    r.version === version ? { ...r, included: true, weight: "100", shadow: false } : { ...r, included: false, weight: "0", shadow: false },
  );
}

/** The request lines for PUT /deployment from valid rows. */
export function deploymentLines(rows: readonly DeployRow[]): DeploymentLine[] {
  return rows
    .filter((r) => r.included)
    .map((r) => ({
      // Only a shadow names the field: a line without one is as it always was.
      ...(r.shadow && parseWeight(r.weight) === 0
        ? { shadow: { percent: Number(r.shadowPercent.trim()), rule: validateRule(r.shadowRule).rule ?? EXACT_RULE } }
        : {}),
      version: r.version,
      weight: parseWeight(r.weight) ?? 0,
      replicas: r.replicas,
      containerCpu: r.containerCpu,
      containerMemory: r.containerMemory,
      autoscaling: r.autoscale
        ? {
            minReplicas: r.replicas,
            maxReplicas: r.maxReplicas,
            targetCpuPercent: parseTarget(r.targetCpuPercent),
            targetRequestsPerReplica: parseTarget(r.targetRequestsPerReplica),
          }
        : null,
      spot: r.spot,
    }));
}

/** "2 / 1–3 (autoscaled)" or "2 / 2": healthy replicas against the count or the bounds. */
export function replicaSummary(d: Pick<DeployedVersion, "healthyReplicas" | "replicas" | "autoscaling">): string {
  return d.autoscaling
    ? `${d.healthyReplicas} / ${d.autoscaling.minReplicas}–${d.autoscaling.maxReplicas} (autoscaled)`
    : `${d.healthyReplicas} / ${d.replicas}`;
}

type Comparable = Pick<SpecLine, "version" | "weight" | "replicas" | "containerCpu" | "containerMemory"> &
  Partial<Pick<SpecLine, "artifactSha256" | "dockerImage">>;

const size = (l: Comparable) => `${formatCpu(l.containerCpu)}, ${formatMemory(l.containerMemory)}`;
const replicas = (n: number) => `${n} replica${n === 1 ? "" : "s"}`;

/**
 * What changed from one spec to the next, one sentence per change (by version, ascending):
 * versions added or removed, weights, replicas, sizes, and a different file or image.
 * `previous` null means the first entry.
 */
export function diffSpecs(previous: readonly Comparable[] | null, next: readonly Comparable[]): string[] {
  if (previous === null) {
    return next.length ? [`First deployment: ${next.map((l) => `v${l.version} ${l.weight}%`).join(", ")}`] : [];
  }
  const before = new Map(previous.map((l) => [l.version, l]));
  const after = new Map(next.map((l) => [l.version, l]));
  const versions = [...new Set([...before.keys(), ...after.keys()])].sort((a, b) => a - b);
  const changes: string[] = [];
  for (const v of versions) {
    const a = before.get(v);
    const b = after.get(v);
    if (!a && b) changes.push(`v${v} added: ${b.weight}%, ${replicas(b.replicas)}, ${size(b)}`);
    else if (a && !b) changes.push(`v${v} removed (was ${a.weight}%)`);
    else if (a && b) {
      if (a.weight !== b.weight) changes.push(`v${v} weight ${a.weight}% → ${b.weight}%`);
      if (a.replicas !== b.replicas) changes.push(`v${v} replicas ${a.replicas} → ${b.replicas}`);
      if (a.containerCpu !== b.containerCpu || a.containerMemory !== b.containerMemory) changes.push(`v${v} size ${size(a)} → ${size(b)}`);
      if ((a.artifactSha256 ?? null) !== (b.artifactSha256 ?? null) || (a.dockerImage ?? null) !== (b.dockerImage ?? null))
        changes.push(`v${v} runs a different file or image`);
    }
  }
  return changes;
}

/** The deployment's target lines: what the API lists minus the versions only still draining (weight 0, no longer deployed). */
export function targetLines(deployment: readonly DeployedVersion[], spec?: readonly Comparable[]): DeployedVersion[] {
  const inSpec = new Set(spec?.map((l) => l.version) ?? []);
  return deployment.filter((d) => d.weight > 0 || inSpec.has(d.version));
}

/** Whether a history entry's spec is the deployment as it stands (same versions, weights, replicas, sizes). */
export function specEquals(spec: readonly Comparable[], deployment: readonly DeployedVersion[]): boolean {
  const target = targetLines(deployment, spec);
  return (
    target.length === spec.length &&
    diffSpecs(
      target,
      spec.map((l) => ({ ...l, artifactSha256: null, dockerImage: null })),
    ).length === 0
  );
}

/** A switch is under way while any version serves a share other than its target. */
export function switching(deployment: readonly DeployedVersion[]): boolean {
  return deployment.some((d) => d.servingWeight !== d.weight);
}

/** The first 12 hex digits of a digest, as shown next to a file. */
export function shortSha(sha256: string | null | undefined): string {
  return sha256 ? sha256.slice(0, 12) : "";
}

/**
 * The load warnings of the versions that serve or are about to (a target weight, or traffic now), by version:
 * what the runner said when it loaded their files (a scikit-learn InconsistentVersionWarning, say). Empty when
 * every serving file loaded cleanly; a version leaving with no traffic left is no longer worth a warning.
 */
export function servingLoadWarnings(deployment: readonly DeployedVersion[]): { version: number; warnings: string[] }[] {
  return deployment
    .filter((d) => (d.weight > 0 || d.servingWeight > 0) && (d.loadWarnings ?? []).length > 0)
    .map((d) => ({ version: d.version, warnings: [...d.loadWarnings] }))
    .sort((a, b) => a.version - b.version);
}

/** A version's runner libraries (name → version, as its first replica reported them), by name. */
export function libraryList(libraries: Record<string, string> | undefined): [string, string][] {
  return Object.entries(libraries ?? {}).sort(([a], [b]) => a.localeCompare(b));
}
