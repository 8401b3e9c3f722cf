/** Small rules about model records the screens share: polling, allowed actions, what to say, sorting. */
import type { Model, ModelMetadata, ModelStatus, RequestRecord, TensorMetadata } from "../api/types";

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
 * example (the model's own input shape); null when there is none. It is the caller's own text, not
 * re-serialized: JSON.stringify would turn 0.0 into 0, which a float input may read as an integer.
 */
export function exampleFromHistory(records: readonly Pick<RequestRecord, "status" | "requestBody">[]): string | null {
  for (const record of records) {
    if (record.status < 200 || record.status >= 300 || !record.requestBody) continue;
    try {
      const body: unknown = JSON.parse(record.requestBody);
      if (body && typeof body === "object" && !Array.isArray(body) && "modelData" in body) {
        return memberText(record.requestBody, "modelData");
      }
    } catch {
      // Cut at captureBodyBytes: not usable as an example.
    }
  }
  return null;
}

/** The text of a top-level member's value in a JSON object already known to parse. */
function memberText(json: string, name: string): string | null {
  let i = skipSpace(json, json.indexOf("{") + 1);
  while (i < json.length && json[i] !== "}") {
    const keyEnd = valueEnd(json, i);
    const key: unknown = JSON.parse(json.slice(i, keyEnd));
    const start = skipSpace(json, skipSpace(json, keyEnd) + 1); // past the colon
    const end = valueEnd(json, start);
    if (key === name) return json.slice(start, end);
    i = skipSpace(json, end);
    if (json[i] === ",") i = skipSpace(json, i + 1);
  }
  return null;
}

function skipSpace(json: string, i: number): number {
  while (i < json.length && " \t\n\r".includes(json[i]!)) i++;
  return i;
}

/** Where the JSON value starting at `i` ends (one past its last character). */
function valueEnd(json: string, i: number): number {
  let depth = 0;
  let inString = false;
  for (let j = i; j < json.length; j++) {
    const c = json[j]!;
    if (inString) {
      if (c === "\\") j++;
      else if (c === '"') {
        inString = false;
        if (depth === 0) return j + 1;
      }
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      if (depth === 0) return j; // the end of a scalar at the close of its parent
      depth--;
      if (depth === 0) return j + 1;
    } else if (depth === 0 && (c === "," || " \t\n\r".includes(c))) return j;
  }
  return json.length;
}

/** The Open Inference Protocol platform the runner names for an ONNX graph (MLflow models are "mlflow"). */
const ONNX_PLATFORM = "onnxruntime_onnx";

type Zeros = Partial<Record<TensorMetadata["datatype"], string>>;
// The zero of each datatype the runner passes on as declared, written as JSON. An ONNX graph's rows are cast to
// its input's type (float, double, int64 or int32); an MLflow model's are parsed against its signature, as
// `mlflow models serve` does, so its float32 and int32 inputs take JSON numbers too.
const ONNX_ZEROS: Zeros = { FP32: "0.0", FP64: "0.0", INT32: "0", INT64: "0" };
const MLFLOW_COLUMN_ZEROS: Zeros = { FP32: "0.0", FP64: "0.0", INT32: "0", INT64: "0", BOOL: "false", BYTES: '""' };
const MLFLOW_TENSOR_ZEROS: Zeros = { FP32: "0.0", FP64: "0.0", INT32: "0", INT64: "0", BOOL: "false" };
/** An input with more values than this is no example to edit by hand. */
const MAX_EXAMPLE_VALUES = 1000;

/** Who declared the model's input, as the try-it hint names it. */
export function declaredBy(platform: string): string {
  return platform === ONNX_PLATFORM ? "its ONNX graph" : "its MLflow signature";
}

/**
 * The try-it example built from what the artifact declares (GET /v2/models/{name}), as `modelData` JSON text
 * with zeros to replace; null when it declares nothing, or nothing the runner's modelData can carry. Columns
 * (MLflow column specs, shape [-1]) make one record; one tensor [batch, ...] makes one row (the batch's size
 * when the graph fixes it) of zeros in the tensor's shape. The runner feeds rows to one input only, so several
 * tensors, a tensor without a batch dimension, an unknown size past the batch, or over 1,000 values: null.
 */
export function exampleFromSignature(metadata: Pick<ModelMetadata, "platform" | "inputs">): string | null {
  const { platform, inputs } = metadata;
  const [only] = inputs;
  if (platform === ONNX_PLATFORM) return inputs.length === 1 && only ? rowsOf(only, ONNX_ZEROS) : null;
  const columns = inputs.length > 0 && inputs.every((input) => input.shape.length === 1 && input.shape[0] === -1);
  if (columns) return recordOf(inputs);
  return inputs.length === 1 && only ? rowsOf(only, MLFLOW_TENSOR_ZEROS) : null;
}

function recordOf(columns: readonly TensorMetadata[]): string | null {
  if (columns.length > MAX_EXAMPLE_VALUES) return null;
  const fields: string[] = [];
  for (const { name, datatype } of columns) {
    const zero = MLFLOW_COLUMN_ZEROS[datatype];
    if (zero === undefined) return null;
    fields.push(`${JSON.stringify(name)}: ${zero}`);
  }
  return `[{${fields.join(", ")}}]`;
}

function rowsOf({ datatype, shape }: TensorMetadata, zeros: Zeros): string | null {
  const zero = zeros[datatype];
  const [batch, ...row] = shape;
  if (zero === undefined || batch === undefined || row.length === 0 || row.some((size) => size < 1)) return null;
  const dims = [batch > 0 ? batch : 1, ...row];
  if (dims.reduce((count, size) => count * size, 1) > MAX_EXAMPLE_VALUES) return null;
  let example = zero;
  for (const size of dims.reverse()) example = `[${Array<string>(size).fill(example).join(", ")}]`;
  return example;
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
