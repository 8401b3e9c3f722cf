/** The API contract's shapes (JSON, camelCase), as the console sees them. */

import type * as Api from "./schema";

// The API's shapes come from its pydantic schemas (schema.d.ts, generated); this file names them for the console.
export type ModelStatus = Api.ModelStatus;
export const MODEL_STATUSES = ["STOPPED", "PENDING", "RUNNING", "STOPPING", "FAILED", "IDLE"] as const satisfies readonly ModelStatus[];

export type ArtifactFormat = Api.ArtifactFormat;
export const ARTIFACT_FORMATS = [
  "joblib",
  "pickle",
  "onnx",
  "python",
  "xgboost",
  "lightgbm",
  "bundle",
  "mlflow",
] as const satisfies readonly ArtifactFormat[];

export type EndpointVisibility = Api.Visibility;
export const ENDPOINT_VISIBILITIES = ["private", "public"] as const satisfies readonly EndpointVisibility[];

export type ScheduleAction = Api.ScheduleAction;
export const SCHEDULE_ACTIONS = ["start", "stop"] as const satisfies readonly ScheduleAction[];
/** A start/stop schedule as the API shows it, with its next run (ISO-8601, UTC). */
export type Schedule = Api.ScheduleResponse;
/** A schedule as the model's create and update bodies send it. */
export type ScheduleSpec = Api.ScheduleSpec;

export type ArtifactInfo = Api.ArtifactResponse;
export type Model = Api.ModelResponse;
/** Body of POST /models. Exactly one of dockerImage and artifactFormat is set. */
export type ModelCreate = Api.CreateModelRequest;
/** Body of PUT /models/{id}: any subset; null clears dockerImage or artifactFormat when switching kind. */
export type ModelUpdate = Api.UpdateModelRequest;
export type Health = Api.HealthResponse;
export type PresignedUpload = Api.UploadTicketResponse;
export type OperationLogEntry = Api.OperationResponse;
export type RequestRecord = Api.PredictionResponse;
export type ContainerLogLine = Api.LogLineResponse;
export type Metrics = Api.MetricsResponse;
export type Cost = Api.CostResponse;
export type StageCost = Api.StageCostResponse;
/** GET /me: who is signed in, their stage-wide role (from Cognito groups) and their role in each project. */
export type Me = Api.MeResponse;
/** A project as GET /projects lists it, with the caller's role in it. */
export type Project = Api.ProjectResponse;
/** Body of POST /projects (stage admins). */
export type ProjectCreate = Api.CreateProjectRequest;
/** A project's bounds (null: no bound), as GET /projects/{p} shows them and PUT /projects/{p}/quota takes them. */
export type Quota = Api.QuotaResponse;
export type QuotaBody = Api.QuotaBody;
/** What a project's models hold now, in the quota's measures (GET /projects/{p} only; null in the list). */
export type Usage = Api.UsageResponse;
/** Body of PUT /models/{id}/registry-credentials; never returned (the record says only `privateRegistry`). */
export type RegistryCredentials = Api.RegistryCredentialsRequest;
/** One member of a project and their role there. */
export type ProjectMember = Api.MemberResponse;
export type ProjectRoleName = Api.MemberRequest["role"];
export const PROJECT_ROLES = ["viewer", "editor", "admin"] as const satisfies readonly ProjectRoleName[];
/** The project that always exists: models made without naming one are in it. */
export const DEFAULT_PROJECT = "default";
/** A model's client token as listed (the token itself is never listed). */
export type ClientToken = Api.ClientResponse;
/** POST /models/{id}/clients: the token, shown once. */
export type CreatedClientToken = Api.ClientCreatedResponse;

/** One immutable version of a model: its code settings and (for runner models) its file. */
export type ModelVersion = Api.VersionResponse;
export type VersionArtifact = Api.VersionArtifactResponse;
/** Body of POST /models/{id}/versions: omitted settings copy the model's own. */
export type VersionCreate = Api.CreateVersionRequest;
/** One version of the deployment as it runs: target weight, weight it serves now, replicas. */
export type DeployedVersion = Api.DeployedVersionResponse;
/** One version of PUT /models/{id}/deployment. */
export type DeploymentLine = Api.DeployedVersionRequest;
/** Body of PUT /models/{id}/deployment (1 to 10 lines, weights summing to 100). */
export type DeploymentChange = Api.DeploymentRequest;
/** One entry of the deployment history, with the full spec it deployed. */
export type HistoryEntry = Api.HistoryEntryResponse;
export type SpecLine = Api.SpecLineResponse;
export type RollbackChange = Api.RollbackRequest;
/** GET /v2/models/{name}: what the model's artifact declares of its input and output (Open Inference Protocol v2). */
export type ModelMetadata = Api.ModelMetadataResponse;
export type TensorMetadata = Api.TensorMetadata;
export const HISTORY_ACTIONS = ["deploy", "start", "stop", "rollback"] as const;

export interface Page<T> {
  items: T[];
  nextToken: string | null;
}

export interface ListModelsQuery {
  limit?: number;
  search?: string;
  status?: ModelStatus | "";
  nextToken?: string | null;
  /** One project's models; without it, those of every project the caller has a role in. */
  project?: string | null;
  /** The models this user created. */
  createdBy?: string | null;
  /** The models whose deployment this user changed last (started, deployed, rolled back). */
  deployedBy?: string | null;
  /** The models whose metadata has this key; with `metadataValue`, that value for it. */
  metadataKey?: string | null;
  metadataValue?: string | null;
}

export type OperationAction = "create" | "update" | "start" | "stop" | "delete" | "transition" | "upload";

export const METRIC_SERIES = [
  "latencyAvg",
  "latencyP50",
  "latencyP90",
  "latencyP99",
  "requests",
  "errors4xx",
  "errors5xx",
  "successRate",
  "cpuPercent",
  "memoryPercent",
  "memoryPeakPercent",
] as const;
export type MetricSeriesName = (typeof METRIC_SERIES)[number];

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
