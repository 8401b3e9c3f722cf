/** The API contract's shapes (JSON, camelCase), as the console sees them. */

export const MODEL_STATUSES = ["STOPPED", "PENDING", "RUNNING", "STOPPING", "FAILED"] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

export const ARTIFACT_FORMATS = ["joblib", "pickle", "onnx", "python"] as const;
export type ArtifactFormat = (typeof ARTIFACT_FORMATS)[number];

export interface ArtifactInfo {
  size: number;
  uploadedAt: string;
}

export interface Model {
  id: string;
  name: string;
  version: string;
  description: string;
  dockerImage: string | null;
  artifactFormat: ArtifactFormat | null;
  containerPort: number;
  containerCpu: number;
  containerMemory: number;
  env: Record<string, string>;
  predictPath: string;
  healthPath: string;
  status: ModelStatus;
  statusReason: string | null;
  createdBy: string;
  updatedBy: string;
  createdAt: string;
  updatedAt: string;
  revision: number;
  artifact?: ArtifactInfo | null;
  /** "private" (default): predictions need a token; "public": anyone may call. Absent on older servers. */
  endpointVisibility?: EndpointVisibility;
  /** Server extras beyond the contract; shown when present. */
  predictTimeoutSeconds?: number;
  captureBodyBytes?: number;
}

export const ENDPOINT_VISIBILITIES = ["private", "public"] as const;
export type EndpointVisibility = (typeof ENDPOINT_VISIBILITIES)[number];

/** Body of POST /models. Exactly one of dockerImage and artifactFormat is set. */
export interface ModelCreate {
  name: string;
  version: string;
  description?: string;
  dockerImage?: string;
  artifactFormat?: ArtifactFormat;
  containerPort: number;
  containerCpu: number;
  containerMemory: number;
  env?: Record<string, string>;
  predictPath?: string;
  healthPath?: string;
  endpointVisibility?: EndpointVisibility;
}

/** Body of PUT /models/{id}: any subset; null clears dockerImage or artifactFormat when switching kind. */
export type ModelUpdate = Partial<Omit<ModelCreate, "dockerImage" | "artifactFormat">> & {
  dockerImage?: string | null;
  artifactFormat?: ArtifactFormat | null;
};

export interface Page<T> {
  items: T[];
  nextToken: string | null;
}

export interface ListModelsQuery {
  limit?: number;
  search?: string;
  status?: ModelStatus | "";
  nextToken?: string | null;
}

export interface Health {
  status: string;
  version: string;
}

export interface PresignedUpload {
  url: string;
  fields: Record<string, string>;
  maxBytes: number;
}

export type OperationAction = "create" | "update" | "start" | "stop" | "delete" | "transition" | "upload";

export interface OperationLogEntry {
  at: string;
  actor: string;
  action: OperationAction | string;
  fromStatus: ModelStatus | null;
  toStatus: ModelStatus | null;
  result: string;
  reason: string | null;
}

export interface RequestRecord {
  requestId: string;
  time: string;
  modelId: string;
  modelVersion: string;
  status: number;
  latencyMs: number;
  requestBytes: number;
  responseBytes: number;
  requestBody: string | null;
  responseBody: string | null;
  /** Server extras beyond the contract; shown when present. */
  containerMs?: number | null;
  caller?: string | null;
}

export interface ContainerLogLine {
  time: string;
  message: string;
}

export const METRIC_SERIES = [
  "latencyAvg",
  "latencyP50",
  "latencyP90",
  "latencyP99",
  "requests",
  "errors4xx",
  "errors5xx",
  "successRate",
] as const;
export type MetricSeriesName = (typeof METRIC_SERIES)[number];

export interface Metrics {
  period: number;
  timestamps: string[];
  series: Partial<Record<MetricSeriesName, (number | null)[]>>;
}

export interface PredictResult {
  status: number;
  ok: boolean;
  /** Milliseconds from sending the request to having the whole body, measured in the browser. */
  elapsedMs: number;
  requestId: string | null;
  serverTiming: string | null;
  /** Parsed JSON when the body is JSON, otherwise the raw text. */
  body: unknown;
}

/** Settings served at /config.json so that one build serves every stage. */
export interface RuntimeConfig {
  apiBase: string;
  stage: string;
  [key: string]: unknown;
}

/** GET /me: who is signed in and their role (from Cognito groups). */
export interface Me {
  username: string;
  groups: string[];
  role: "admin" | "editor" | "viewer" | null;
}

/** A model's client token as listed (the token itself is never listed). */
export interface ClientToken {
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** POST /models/{id}/clients: the token, shown once. */
export interface CreatedClientToken {
  name: string;
  token: string;
  createdAt: string;
}
