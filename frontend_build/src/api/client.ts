/**
 * The one HTTP client of the console. Every call to the kraken API goes through `ApiClient.request`,
 * so cross-cutting concerns live in one place: the base URL from /config.json, the JSON encoding,
 * turning any failure into an `ApiError`, and `authHeaders` — the hook where sign-in adds
 * `Authorization` — with `onUnauthorized`, which may refresh the session and have a 401 sent once
 * more. The artifact upload to S3 deliberately bypasses it: a presigned POST must not carry our
 * credentials.
 */
import type {
  ClientToken,
  ContainerLogLine,
  Cost,
  CreatedClientToken,
  DeploymentChange,
  DeploymentLine,
  HistoryEntry,
  Health,
  ListModelsQuery,
  Me,
  Metrics,
  Model,
  ModelCreate,
  ModelMetadata,
  ModelVersion,
  ModelUpdate,
  OperationLogEntry,
  Page,
  PredictResult,
  PresignedUpload,
  Project,
  ProjectCreate,
  ProjectMember,
  ProjectRoleName,
  QuotaBody,
  RegistryCredentials,
  StageCost,
  RequestRecord,
  RollbackChange,
  VersionCreate,
} from "./types";
import type { Replay, ReplayRequest, Rollout, RolloutAction, RolloutRequest, ShadowResult } from "./safety-types";

export interface FieldError {
  /** Dotted path in the request body, camelCase first segment: "containerMemory", "env.FOO". */
  field: string;
  message: string;
}

const CODE_BY_STATUS: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  412: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "validation_error",
  429: "too_many_requests",
  502: "bad_gateway",
  503: "service_unavailable",
  504: "timeout",
};

/** The code of a 409 that a project's quota answers (the API's QuotaExceeded), told apart from a stale revision's `conflict`. */
export const QUOTA_EXCEEDED = "quota_exceeded";

/** Any failed call: an HTTP error from the API (status > 0) or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: FieldError[];
  readonly requestId: string | null;

  constructor(status: number, code: string, message: string, details: FieldError[] = [], requestId: string | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
    this.requestId = requestId;
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }

  /**
   * A 409 (or 412) that says the record changed or a value is taken: reload, or choose another. A quota's
   * refusal is a 409 too, but not this: nothing is stale, and reloading would not help (`isQuotaExceeded`).
   */
  get isConflict(): boolean {
    return (this.status === 409 || this.status === 412) && this.code !== QUOTA_EXCEEDED;
  }

  /** A project's quota refuses what was asked (409 `quota_exceeded`); the message names the quota, the use and what is left. */
  get isQuotaExceeded(): boolean {
    return this.status === 409 && this.code === QUOTA_EXCEEDED;
  }

  get isNetwork(): boolean {
    return this.status === 0;
  }
}

/**
 * A failure worth trying again by itself (the network, a 5xx, throttling), as a poll does: anything else (a 4xx
 * such as 403 or 404) would fail the same way on the next call.
 */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof ApiError)) return !(error instanceof DOMException && error.name === "AbortError");
  return error.status === 0 || error.status === 429 || error.status >= 500;
}

/** "container_memory.x" -> "containerMemory.x": only the first segment; env keys stay as typed. */
export function normalizeField(field: string): string {
  const dot = field.indexOf(".");
  const head = dot === -1 ? field : field.slice(0, dot);
  const rest = dot === -1 ? "" : field.slice(dot);
  return head.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()) + rest;
}

function defaultMessage(status: number): string {
  if (status === 404) return "Not found.";
  if (status >= 500) return `The server failed (HTTP ${status}).`;
  return `The request failed (HTTP ${status}).`;
}

/** Turns an error response into an ApiError, whatever its body: our error shape, another JSON, or text. */
export function parseError(status: number, bodyText: string, headerRequestId: string | null = null): ApiError {
  let code = CODE_BY_STATUS[status] ?? (status >= 500 ? "internal" : "error");
  let message = defaultMessage(status);
  let details: FieldError[] = [];
  let requestId = headerRequestId;
  let parsed: unknown;
  try {
    parsed = bodyText ? JSON.parse(bodyText) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed && typeof parsed === "object") {
    const obj = parsed as Record<string, unknown>;
    const err = obj.error;
    if (err && typeof err === "object") {
      const e = err as Record<string, unknown>;
      if (typeof e.code === "string" && e.code) code = e.code;
      if (typeof e.message === "string" && e.message) message = e.message;
      if (typeof e.requestId === "string" && e.requestId) requestId = e.requestId;
      if (Array.isArray(e.details)) {
        details = e.details
          .filter((d): d is Record<string, unknown> => !!d && typeof d === "object")
          .map((d) => ({
            field: typeof d.field === "string" ? normalizeField(d.field) : "",
            message: typeof d.message === "string" ? d.message : String(d.message ?? ""),
          }));
      }
    } else {
      // Not our shape (API Gateway, Chalice's own 404s): use what message there is.
      const m = obj.message ?? obj.Message;
      if (typeof m === "string" && m) message = m;
    }
  }
  return new ApiError(status, code, message, details, requestId);
}

export type QueryValue = string | number | boolean | null | undefined;

/** Joins base and path and appends the query, leaving out empty values. */
export function buildUrl(base: string, path: string, query?: Record<string, QueryValue>): string {
  const url = base.replace(/\/+$/, "") + (path.startsWith("/") ? path : `/${path}`);
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === "") continue;
    params.append(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${url}?${qs}` : url;
}

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ApiClientOptions {
  /** "/api" or an absolute URL; from /config.json. */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Headers added to every API call; sign-in will return {Authorization: ...} here. */
  authHeaders?: () => Record<string, string> | Promise<Record<string, string>>;
  /**
   * Called when the API answers 401 to a call sent with `used` headers. Resolving true sends the call
   * once more (with fresh authHeaders); `afterRetry` says the retry got a 401 too.
   */
  onUnauthorized?: (used: Record<string, string>, afterRetry: boolean) => Promise<boolean>;
  /** For tests: builds the XMLHttpRequest used by the artifact upload. */
  xhrFactory?: () => XMLHttpRequest;
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

const enc = encodeURIComponent;

/**
 * A path segment that may be a username or an e-mail address: percent-encoded, except "@" and "+", which a
 * path may hold as they are (RFC 3986 pchar) and which a server that does not decode path parameters
 * (local mode's router) must see as typed.
 */
export function userSegment(value: string): string {
  return encodeURIComponent(value).replace(/%40/g, "@").replace(/%2B/g, "+");
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly authHeaders: NonNullable<ApiClientOptions["authHeaders"]>;
  private readonly onUnauthorized: ApiClientOptions["onUnauthorized"];
  private readonly xhrFactory: () => XMLHttpRequest;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl;
    // Bind: calling an unbound window.fetch as a method of another object throws "Illegal invocation".
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.authHeaders = options.authHeaders ?? (() => ({}));
    this.onUnauthorized = options.onUnauthorized;
    this.xhrFactory = options.xhrFactory ?? (() => new XMLHttpRequest());
  }

  url(path: string, query?: Record<string, QueryValue>): string {
    return buildUrl(this.baseUrl, path, query);
  }

  /**
   * Fetches with the auth headers; on a 401 lets `onUnauthorized` refresh and sends once more.
   * Network failures become ApiError status 0; any HTTP answer is returned as it is.
   */
  private async fetchWithAuth(url: string, init: RequestInit, headers: Record<string, string>): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const auth = await this.authHeaders();
      let response: Response;
      try {
        response = await this.fetchImpl(url, { ...init, headers: { ...headers, ...auth } });
      } catch (err) {
        if (err instanceof DOMException && err.name === "AbortError") throw err;
        throw new ApiError(0, "network_error", "Cannot reach the server. Check your connection and try again.");
      }
      if (response.status !== 401 || !this.onUnauthorized) return response;
      const again = await this.onUnauthorized(auth, attempt > 0);
      if (!again || attempt > 0) return response;
      await response.body?.cancel().catch(() => {});
    }
  }

  /** Sends one API call and returns the raw Response when it is 2xx; throws ApiError otherwise. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    const init: RequestInit = { method, signal: options.signal };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    const response = await this.fetchWithAuth(this.url(path, options.query), init, headers);
    if (!response.ok) {
      const text = await response.text().catch(() => "");
      throw parseError(response.status, text, response.headers.get("X-Request-Id"));
    }
    return response;
  }

  /** An API call whose answer is JSON (or nothing, for 204). */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(response.status, "bad_response", "The server sent an answer the console cannot read.");
    }
  }

  // --- health and models -------------------------------------------------------------------

  health(signal?: AbortSignal): Promise<Health> {
    return this.request("GET", "/health", { signal });
  }

  listModels(query: ListModelsQuery = {}, signal?: AbortSignal): Promise<Page<Model>> {
    return this.request("GET", "/models", {
      query: {
        limit: query.limit,
        search: query.search?.trim(),
        status: query.status,
        nextToken: query.nextToken,
        project: query.project,
        createdBy: query.createdBy?.trim(),
        deployedBy: query.deployedBy?.trim(),
        metadataKey: query.metadataKey?.trim(),
        // A value means something only with its key (the API answers 422 otherwise).
        metadataValue: query.metadataKey?.trim() ? query.metadataValue : undefined,
      },
      signal,
    });
  }

  getModel(id: string, signal?: AbortSignal): Promise<Model> {
    return this.request("GET", `/models/${enc(id)}`, { signal });
  }

  createModel(body: ModelCreate): Promise<Model> {
    return this.request("POST", "/models", { body });
  }

  /** Partial update guarded by the revision the user saw: a 409 ApiError means someone changed it. */
  updateModel(id: string, changes: ModelUpdate, revision: number): Promise<Model> {
    return this.request("PUT", `/models/${enc(id)}`, {
      body: changes,
      headers: { "If-Match": String(revision) },
    });
  }

  /** Stores (or replaces) the pull credentials of the model's private registry; the answer says only `privateRegistry`. */
  setRegistryCredentials(id: string, credentials: RegistryCredentials): Promise<Model> {
    return this.request("PUT", `/models/${enc(id)}/registry-credentials`, { body: credentials });
  }

  clearRegistryCredentials(id: string): Promise<Model> {
    return this.request("DELETE", `/models/${enc(id)}/registry-credentials`);
  }

  deleteModel(id: string): Promise<void> {
    return this.request("DELETE", `/models/${enc(id)}`);
  }

  startModel(id: string): Promise<Model> {
    return this.request("POST", `/models/${enc(id)}/start`, { body: {} });
  }

  stopModel(id: string): Promise<Model> {
    return this.request("POST", `/models/${enc(id)}/stop`, { body: {} });
  }

  // --- who is signed in, client tokens ----------------------------------------------------

  me(signal?: AbortSignal): Promise<Me> {
    return this.request("GET", "/me", { signal });
  }

  listClients(id: string, signal?: AbortSignal): Promise<{ items: ClientToken[] }> {
    return this.request("GET", `/models/${enc(id)}/clients`, { signal });
  }

  /** The answer holds the token: the only time anyone sees it. */
  createClient(id: string, name: string): Promise<CreatedClientToken> {
    return this.request("POST", `/models/${enc(id)}/clients`, { body: { name } });
  }

  revokeClient(id: string, name: string): Promise<void> {
    return this.request("DELETE", `/models/${enc(id)}/clients/${enc(name)}`);
  }

  // --- projects and their members --------------------------------------------------------

  /** The projects the caller has a role in, each with that role. */
  listProjects(signal?: AbortSignal): Promise<{ items: Project[] }> {
    return this.request("GET", "/projects", { signal });
  }

  getProject(name: string, signal?: AbortSignal): Promise<Project> {
    return this.request("GET", `/projects/${enc(name)}`, { signal });
  }

  /** Stage admins only; 409 when the name is taken. */
  createProject(body: ProjectCreate): Promise<Project> {
    return this.request("POST", "/projects", { body });
  }

  /** Stage admins only (a project's own admins get 403): the four bounds, null for none. Answers the project with its usage. */
  setQuota(name: string, quota: QuotaBody): Promise<Project> {
    return this.request("PUT", `/projects/${enc(name)}/quota`, { body: quota });
  }

  /** Stage admins only. 409 while the project has models, and always for "default". */
  deleteProject(name: string): Promise<void> {
    return this.request("DELETE", `/projects/${enc(name)}`);
  }

  listMembers(project: string, signal?: AbortSignal): Promise<{ items: ProjectMember[] }> {
    return this.request("GET", `/projects/${enc(project)}/members`, { signal });
  }

  /** Adds a user (by username or e-mail address) with a role, or changes their role; 404 when there is no such user. */
  setMember(project: string, usernameOrEmail: string, role: ProjectRoleName): Promise<ProjectMember> {
    return this.request("PUT", `/projects/${enc(project)}/members/${userSegment(usernameOrEmail)}`, { body: { role } });
  }

  removeMember(project: string, username: string): Promise<void> {
    return this.request("DELETE", `/projects/${enc(project)}/members/${userSegment(username)}`);
  }

  // --- versions, deployment, history -------------------------------------------------------

  listVersions(id: string, signal?: AbortSignal): Promise<{ items: ModelVersion[] }> {
    return this.request("GET", `/models/${enc(id)}/versions`, { signal });
  }

  createVersion(id: string, body: VersionCreate): Promise<ModelVersion> {
    return this.request("POST", `/models/${enc(id)}/versions`, { body });
  }

  deleteVersion(id: string, version: number): Promise<void> {
    return this.request("DELETE", `/models/${enc(id)}/versions/${version}`);
  }

  /** An upload ticket for a version's file (409 once the version has one: artifacts are immutable). */
  requestVersionUpload(id: string, version: number): Promise<PresignedUpload> {
    return this.request("POST", `/models/${enc(id)}/versions/${version}/artifact`, { body: {} });
  }

  /** Replaces the whole deployment, guarded by the revision the user saw (409 when stale); answered 202. */
  deploy(id: string, versions: DeploymentLine[], message: string, revision: number): Promise<Model> {
    const body = { versions, message } as DeploymentChange;
    return this.request("PUT", `/models/${enc(id)}/deployment`, { body, headers: { "If-Match": `"${revision}"` } });
  }

  listHistory(id: string, query: { limit?: number; nextToken?: string | null } = {}, signal?: AbortSignal): Promise<Page<HistoryEntry>> {
    return this.request("GET", `/models/${enc(id)}/history`, { query, signal });
  }

  /** Restores the spec of a history entry exactly (through the same switch as a deployment). */
  rollback(id: string, entryId: string, message: string, revision: number): Promise<Model> {
    const body: RollbackChange = { entryId, message };
    return this.request("POST", `/models/${enc(id)}/rollback`, { body, headers: { "If-Match": `"${revision}"` } });
  }

  // --- safe rollouts: replays, shadow traffic, canary rollouts ------------------------------

  /** Sends captured requests to a candidate version and compares its answers (409 when the model is not RUNNING). */
  startReplay(id: string, body: ReplayRequest): Promise<Replay> {
    return this.request("POST", `/models/${enc(id)}/replays`, { body });
  }

  listReplays(id: string, query: { limit?: number; nextToken?: string | null } = {}, signal?: AbortSignal): Promise<Page<Replay>> {
    return this.request("GET", `/models/${enc(id)}/replays`, { query, signal });
  }

  getReplay(id: string, replayId: string, signal?: AbortSignal): Promise<Replay> {
    return this.request("GET", `/models/${enc(id)}/replays/${enc(replayId)}`, { signal });
  }

  cancelReplay(id: string, replayId: string): Promise<Replay> {
    return this.request("POST", `/models/${enc(id)}/replays/${enc(replayId)}/cancel`, { body: {} });
  }

  /** The tally of each shadow version since it became one. */
  getShadow(id: string, signal?: AbortSignal): Promise<{ items: ShadowResult[] }> {
    return this.request("GET", `/models/${enc(id)}/shadow`, { signal });
  }

  /** The current or last rollout; a 404 ApiError when the model never had one. */
  getRollout(id: string, signal?: AbortSignal): Promise<Rollout> {
    return this.request("GET", `/models/${enc(id)}/rollout`, { signal });
  }

  /** Starts a canary plan (409 when one is active, the model is not RUNNING or the candidate already serves). */
  startRollout(id: string, body: RolloutRequest): Promise<Rollout> {
    return this.request("POST", `/models/${enc(id)}/rollout`, { body });
  }

  rolloutAction(id: string, action: RolloutAction): Promise<Rollout> {
    return this.request("POST", `/models/${enc(id)}/rollout/${action}`, { body: {} });
  }

  // --- artifact upload ---------------------------------------------------------------------

  requestArtifactUpload(id: string): Promise<PresignedUpload> {
    return this.request("POST", `/models/${enc(id)}/artifact`, { body: {} });
  }

  /**
   * POSTs the file to the presigned URL as multipart form data (every field first, then `file`,
   * as S3 requires) and reports progress. Resolves on any 2xx; S3's XML errors become ApiError.
   */
  postPresigned(upload: PresignedUpload, file: Blob, onProgress?: (progress: UploadProgress) => void, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (file.size === 0) {
        reject(new ApiError(400, "empty_file", "The file is empty (0 bytes): choose the trained model's file."));
        return;
      }
      if (file.size > upload.maxBytes) {
        reject(new ApiError(413, "payload_too_large", `The file is larger than the limit of ${upload.maxBytes} bytes.`));
        return;
      }
      const form = new FormData();
      for (const [key, value] of Object.entries(upload.fields)) form.append(key, value);
      form.append("file", file);
      const xhr = this.xhrFactory();
      xhr.open("POST", upload.url);
      xhr.upload.onprogress = (event: ProgressEvent) => {
        onProgress?.({ loaded: event.loaded, total: event.lengthComputable ? event.total : file.size });
      };
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress?.({ loaded: file.size, total: file.size });
          resolve();
        } else {
          const s3Message = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText ?? "")?.[1];
          reject(
            new ApiError(
              xhr.status,
              "upload_failed",
              s3Message ? `Upload refused: ${s3Message}` : `The upload failed (HTTP ${xhr.status}).`,
            ),
          );
        }
      };
      xhr.onerror = () => reject(new ApiError(0, "network_error", "The upload could not reach the storage service."));
      xhr.onabort = () => reject(new DOMException("Upload cancelled", "AbortError"));
      signal?.addEventListener("abort", () => xhr.abort(), { once: true });
      xhr.send(form);
    });
  }

  // --- observability -----------------------------------------------------------------------

  listOperations(
    id: string,
    query: { limit?: number; nextToken?: string | null } = {},
    signal?: AbortSignal,
  ): Promise<Page<OperationLogEntry>> {
    return this.request("GET", `/models/${enc(id)}/logs`, { query, signal });
  }

  listRequests(
    id: string,
    query: { from?: string; to?: string; status?: string; limit?: number; nextToken?: string | null } = {},
    signal?: AbortSignal,
  ): Promise<Page<RequestRecord>> {
    return this.request("GET", `/models/${enc(id)}/requests`, { query, signal });
  }

  listContainerLogs(
    id: string,
    query: { limit?: number; nextToken?: string | null } = {},
    signal?: AbortSignal,
  ): Promise<Page<ContainerLogLine>> {
    return this.request("GET", `/models/${enc(id)}/container-logs`, { query, signal });
  }

  /** The whole container log as text, fetched through the client so it carries auth headers. */
  async downloadContainerLogs(id: string): Promise<Blob> {
    const response = await this.send("GET", `/models/${enc(id)}/container-logs`, {
      query: { format: "text" },
      headers: { Accept: "text/plain" },
    });
    return response.blob();
  }

  /**
   * What the model's artifact declares of its input and output (an ONNX graph's, an MLflow signature's; none for
   * others), as the runner tells the gateway's Open Inference Protocol route. Only a running model answers.
   */
  getModelMetadata(id: string, signal?: AbortSignal): Promise<ModelMetadata> {
    return this.request("GET", `/v2/models/${enc(id)}`, { signal });
  }

  /** What the model costs: per hour while it runs, this month, per 1,000 predictions (USD). */
  getCost(id: string, signal?: AbortSignal): Promise<Cost> {
    return this.request("GET", `/models/${enc(id)}/cost`, { signal });
  }

  /** What the stage itself costs with no model running. */
  getStageCost(signal?: AbortSignal): Promise<StageCost> {
    return this.request("GET", "/costs", { signal });
  }

  /** The model's metrics; with `version`, that version's series only. */
  getMetrics(id: string, query: { from: string; to: string; period: number; version?: number }, signal?: AbortSignal): Promise<Metrics> {
    return this.request("GET", `/models/${enc(id)}/metrics`, { query, signal });
  }

  /**
   * Sends a prediction through the public route and reports what came back, errors included
   * (the try-it form shows the status and body of a failure too). Throws only when the
   * server cannot be reached. `modelDataJson` goes as written, so its numbers keep their form:
   * an MLflow float64 tensor takes 0.0 but refuses 0, which a parse and stringify would make of it.
   */
  async predict(modelId: string, modelDataJson: string, signal?: AbortSignal): Promise<PredictResult> {
    const started = performance.now();
    const request = `{"modelData":${modelDataJson},"metaData":${JSON.stringify({ modelId })}}`;
    const response = await this.fetchWithAuth(
      this.url("/predict"),
      { method: "POST", body: request, signal },
      { Accept: "application/json", "Content-Type": "application/json" },
    );
    const text = await response.text();
    const elapsedMs = performance.now() - started;
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    return {
      status: response.status,
      ok: response.ok,
      elapsedMs,
      requestId: response.headers.get("X-Request-Id"),
      serverTiming: response.headers.get("Server-Timing"),
      body,
    };
  }
}

/** Reads /config.json (relative to the page, so it works under any path); falls back to "/api". */
export async function loadRuntimeConfig(
  fetchImpl: typeof fetch = (i, init) => globalThis.fetch(i, init),
): Promise<{ apiBase: string; stage: string; [k: string]: unknown }> {
  const fallback = { apiBase: "/api", stage: "unknown" };
  try {
    const response = await fetchImpl("config.json", { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!response.ok) return fallback;
    const data = (await response.json()) as Record<string, unknown>;
    return {
      ...data,
      apiBase: typeof data.apiBase === "string" && data.apiBase ? data.apiBase : fallback.apiBase,
      stage: typeof data.stage === "string" && data.stage ? data.stage : fallback.stage,
    };
  } catch {
    return fallback;
  }
}
