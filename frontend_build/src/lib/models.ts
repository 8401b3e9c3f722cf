/** Small rules about model records the screens share: polling, allowed actions, sorting. */
import type { Model, ModelStatus } from "../api/types";

export const TRANSITIONAL: readonly ModelStatus[] = ["PENDING", "STOPPING"];

/** Poll only while something is changing; a quiet list costs no requests. */
export function needsPolling(models: readonly Pick<Model, "status">[]): boolean {
  return models.some((m) => TRANSITIONAL.includes(m.status));
}

export function canStart(model: Pick<Model, "status">): boolean {
  return model.status === "STOPPED" || model.status === "FAILED";
}

export function canStop(model: Pick<Model, "status">): boolean {
  return model.status === "RUNNING" || model.status === "PENDING";
}

export function canDelete(model: Pick<Model, "status">): boolean {
  return model.status === "STOPPED" || model.status === "FAILED";
}

/** Runtime settings may change only while no container runs (the API refuses otherwise). */
export function isIdle(model: Pick<Model, "status">): boolean {
  return model.status === "STOPPED" || model.status === "FAILED";
}

export type SortKey = "name" | "version" | "status" | "createdAt" | "updatedAt" | "containerCpu" | "containerMemory";
export type SortDir = "asc" | "desc";

const STATUS_ORDER: Record<ModelStatus, number> = { RUNNING: 0, PENDING: 1, STOPPING: 2, FAILED: 3, STOPPED: 4 };

export function sortModels(models: readonly Model[], key: SortKey, dir: SortDir): Model[] {
  const sign = dir === "asc" ? 1 : -1;
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  return [...models].sort((a, b) => {
    let c: number;
    if (key === "status") c = STATUS_ORDER[a.status] - STATUS_ORDER[b.status];
    else if (key === "containerCpu" || key === "containerMemory") c = a[key] - b[key];
    else c = collator.compare(String(a[key]), String(b[key]));
    return c * sign;
  });
}

/** The model's source for the list: the image, or "artifact (joblib)". */
export function modelSource(model: Pick<Model, "dockerImage" | "artifactFormat">): string {
  if (model.dockerImage) return model.dockerImage;
  return `artifact (${model.artifactFormat ?? "?"})`;
}
