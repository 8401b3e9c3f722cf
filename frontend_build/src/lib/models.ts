/** Small rules about model records the screens share: polling, allowed actions, what to say, sorting. */
import type { Model, ModelStatus, RequestRecord } from "../api/types";

export const TRANSITIONAL: readonly ModelStatus[] = ["PENDING", "STOPPING"];

/** Poll only while something is changing; a quiet list costs no requests. */
export function needsPolling(models: readonly Pick<Model, "status">[]): boolean {
  return models.some((m) => TRANSITIONAL.includes(m.status));
}

export function canStart(model: Pick<Model, "status">): boolean {
  return model.status === "STOPPED" || model.status === "FAILED" || model.status === "IDLE";
}

/**
 * Why Start cannot work yet, or null: an artifact model needs its file first. Said where the file
 * is uploaded (the Model file panel), not as an API route.
 */
export function startBlocker(model: Pick<Model, "artifactFormat"> & Partial<Pick<Model, "artifact">>): string | null {
  if (model.artifactFormat && !model.artifact) return "Upload the model file first (in the Model file panel).";
  return null;
}

/** What the try-it box says about predictions in each status. */
export function predictHint(status: ModelStatus): string {
  switch (status) {
    case "RUNNING":
      return "Ctrl+Enter sends.";
    case "PENDING":
      return "The model is starting; predictions work once it is running.";
    case "STOPPING":
      return "The model is stopping; start it again to get predictions.";
    case "STOPPED":
      return "The model is stopped; start it to get predictions.";
    case "FAILED":
      return "The model has failed (the reason is above); fix that and start it again to get predictions.";
    case "IDLE":
      return "The model is idle: the next request wakes it and waits for the start (a 503 with Retry-After if that takes over 20 s).";
  }
}

/** Shown when the model has no successful request yet: a shape, not a promise that it fits. */
export const NEUTRAL_EXAMPLE = '[{"feature": 1.0}]';

/**
 * The `modelData` of the newest successful request whose body was recorded whole, as the try-it
 * example (the model's own input shape); null when there is none.
 */
export function exampleFromHistory(records: readonly Pick<RequestRecord, "status" | "requestBody">[]): string | null {
  for (const record of records) {
    if (record.status < 200 || record.status >= 300 || !record.requestBody) continue;
    try {
      const body: unknown = JSON.parse(record.requestBody);
      if (body && typeof body === "object" && "modelData" in body) return JSON.stringify((body as { modelData: unknown }).modelData);
    } catch {
      // Cut at captureBodyBytes: not usable as an example.
    }
  }
  return null;
}

/** Stop ends a run, or an IDLE model's waking on requests. */
export function canStop(model: Pick<Model, "status">): boolean {
  return model.status === "RUNNING" || model.status === "PENDING" || model.status === "IDLE";
}

export function canDelete(model: Pick<Model, "status">): boolean {
  return model.status === "STOPPED" || model.status === "FAILED" || model.status === "IDLE";
}

/** Runtime settings may change only while no container runs (the API refuses otherwise). */
export function runsNothing(model: Pick<Model, "status">): boolean {
  return model.status === "STOPPED" || model.status === "FAILED" || model.status === "IDLE";
}

export type SortKey = "name" | "version" | "status" | "createdAt" | "updatedAt" | "containerCpu" | "containerMemory";
export type SortDir = "asc" | "desc";

const STATUS_ORDER: Record<ModelStatus, number> = { RUNNING: 0, PENDING: 1, STOPPING: 2, FAILED: 3, IDLE: 4, STOPPED: 5 };

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
