/**
 * Client-side validation of the model form. It mirrors the API's rules so that most mistakes are
 * caught before a round trip; the API stays the authority and its field errors are shown the same way.
 */
import {
  ARTIFACT_FORMATS,
  DEFAULT_PROJECT,
  type ArtifactFormat,
  type EndpointVisibility,
  type ModelCreate,
  type ModelUpdate,
  type Model,
} from "../api/types";
import { PROJECT_NAME_PATTERN } from "./projects";
import {
  metadataErrorsFromApi,
  metadataObject,
  rowsFromMetadata,
  sameMetadata,
  validateMetadata,
  type MetadataRow,
  type MetadataRowErrors,
} from "./metadata";
import { rowsFromSchedules, sameSchedules, schedulesBody, validateSchedules, type ScheduleRow, type ScheduleRowErrors } from "./schedules";

/** Fargate task sizes: vCPU -> memory choices in GB (whole GB above 0.5). */
export const FARGATE_SIZES: ReadonlyMap<number, readonly number[]> = new Map<number, readonly number[]>([
  [0.25, [0.5, 1, 2]],
  [0.5, range(1, 4)],
  [1, range(2, 8)],
  [2, range(4, 16)],
  [4, range(8, 30)],
]);

function range(low: number, high: number): number[] {
  const out: number[] = [];
  for (let gb = low; gb <= high; gb++) out.push(gb);
  return out;
}

export const CPU_CHOICES: readonly number[] = [...FARGATE_SIZES.keys()];

export function memoryChoices(cpu: number): readonly number[] {
  return FARGATE_SIZES.get(cpu) ?? [];
}

export function isFargateSize(cpu: number, memory: number): boolean {
  return memoryChoices(cpu).includes(memory);
}

export const NAME_PATTERN = /^[a-z0-9-]{1,64}$/;
/** Client token names (POST /models/{id}/clients). */
export const CLIENT_NAME_PATTERN = /^[a-z0-9_-]{1,64}$/;
export const ENV_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MAX_ENV_KEYS = 50;
export const MAX_ENV_VALUE_BYTES = 4096;
export const MAX_VERSION_LENGTH = 64;
export const VERSION_PATTERN = /^[A-Za-z0-9._+-]+$/;
export const MAX_DESCRIPTION_LENGTH = 2048;
export const IMAGE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/;
export const MAX_IMAGE_LENGTH = 512;
export const PATH_PATTERN = /^\/[A-Za-z0-9._~/%-]*$/;
export const MAX_PATH_LENGTH = 256;
export const MAX_ENV_KEY_LENGTH = 128;
export const MAX_IDLE_STOP_MINUTES = 10080;

export function validateName(name: string): string | null {
  if (!name) return "Enter a name.";
  if (name.length > 64) return "Use at most 64 characters.";
  if (!NAME_PATTERN.test(name)) return "Use only lowercase letters a-z, digits 0-9 and hyphens (-).";
  return null;
}

export function validateClientName(name: string): string | null {
  if (!name) return "Enter a name for the client.";
  if (name.length > 64) return "Use at most 64 characters.";
  if (!CLIENT_NAME_PATTERN.test(name)) return "Use only lowercase letters a-z, digits 0-9, hyphens (-) and underscores (_).";
  return null;
}

export function validatePort(value: string): string | null {
  if (value.trim() === "") return "Enter a port.";
  if (!/^\d+$/.test(value.trim())) return "Enter a whole number.";
  const port = Number(value);
  if (port < 1 || port > 65535) return "Use a port from 1 to 65535.";
  return null;
}

export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

export interface EnvRow {
  /** Stable identity for React keys while rows are added and removed. */
  id: number;
  key: string;
  value: string;
  /** Kept in the secret store and never shown again once saved. */
  secret: boolean;
  /** A secret the server already holds: an empty value keeps it. */
  stored: boolean;
}

/** Errors per env row (by row id) plus a general one (too many keys). */
export function validateEnv(rows: readonly EnvRow[]): { rows: Record<number, { key?: string; value?: string }>; general: string | null } {
  const out: Record<number, { key?: string; value?: string }> = {};
  const seen = new Set<string>();
  let count = 0;
  for (const row of rows) {
    const key = row.key.trim();
    const errors: { key?: string; value?: string } = {};
    if (!key) {
      if (row.value !== "") errors.key = "Enter a name for this value.";
      else if (row.secret && !row.stored) errors.key = "Enter a name for this secret.";
    } else {
      count++;
      if (!ENV_KEY_PATTERN.test(key)) errors.key = "Letters, digits and _, not starting with a digit.";
      else if (key.length > MAX_ENV_KEY_LENGTH) errors.key = `Use at most ${MAX_ENV_KEY_LENGTH} characters.`;
      else if (seen.has(key)) errors.key = "This name is already used.";
      seen.add(key);
    }
    if (utf8Length(row.value) > MAX_ENV_VALUE_BYTES) errors.value = "Values are limited to 4 KB.";
    else if (key && row.secret && !row.stored && row.value === "") errors.value = "Enter the secret's value.";
    if (errors.key || errors.value) out[row.id] = errors;
  }
  return { rows: out, general: count > MAX_ENV_KEYS ? `At most ${MAX_ENV_KEYS} variables.` : null };
}

export type ModelKind = "image" | "artifact";

/** The form's state: strings as typed, so partial input survives re-renders. */
export interface ModelForm {
  /** The project whose members may see and change the model; changing it on edit moves the model. */
  project: string;
  name: string;
  version: string;
  description: string;
  kind: ModelKind;
  dockerImage: string;
  artifactFormat: ArtifactFormat;
  containerPort: string;
  containerCpu: number;
  containerMemory: number;
  env: EnvRow[];
  predictPath: string;
  healthPath: string;
  endpointVisibility: EndpointVisibility;
  /** Minutes without a request before the model rests IDLE (woken by the next request); "" is off. */
  idleStopMinutes: string;
  /** Start/stop schedules, fired by the reconciler within about a minute of their time. */
  schedules: ScheduleRow[];
  /** Key/value facts about the model (team, dataset, …), shown in the list and filtered on. */
  metadata: MetadataRow[];
}

export type FormErrors = Partial<Record<Exclude<keyof ModelForm, "env" | "schedules" | "metadata">, string>> & {
  env?: string;
  envRows?: Record<number, { key?: string; value?: string }>;
  metadata?: string;
  metadataRows?: Record<number, MetadataRowErrors>;
  schedules?: string;
  scheduleRows?: Record<number, ScheduleRowErrors>;
};

let nextEnvRowId = 1;
export function envRow(key = "", value = "", secret = false): EnvRow {
  return { id: nextEnvRowId++, key, value, secret, stored: false };
}

/** A row for a value the API answered: a secret comes as `{secret: true}`, its value never. */
export function envRowFromModel(key: string, value: string | { secret: true }): EnvRow {
  if (typeof value === "string") return envRow(key, value);
  return { ...envRow(key, "", true), stored: true };
}

export function emptyForm(project: string = DEFAULT_PROJECT): ModelForm {
  return {
    project,
    name: "",
    version: "1",
    description: "",
    kind: "artifact",
    dockerImage: "",
    artifactFormat: "joblib",
    containerPort: "8080",
    containerCpu: 0.5,
    containerMemory: 1,
    env: [],
    predictPath: "/predict",
    healthPath: "/health",
    endpointVisibility: "private",
    idleStopMinutes: "",
    schedules: [],
    metadata: [],
  };
}

export function formFromModel(model: Model): ModelForm {
  return {
    project: model.project,
    name: model.name,
    version: model.version,
    description: model.description ?? "",
    kind: model.dockerImage ? "image" : "artifact",
    dockerImage: model.dockerImage ?? "",
    artifactFormat: model.artifactFormat ?? "joblib",
    containerPort: String(model.containerPort),
    containerCpu: model.containerCpu,
    containerMemory: model.containerMemory,
    env: Object.entries(model.env ?? {}).map(([k, v]) => envRowFromModel(k, v)),
    predictPath: model.predictPath || "/predict",
    healthPath: model.healthPath || "/health",
    endpointVisibility: model.endpointVisibility ?? "private",
    idleStopMinutes: model.idleStopMinutes == null ? "" : String(model.idleStopMinutes),
    schedules: rowsFromSchedules(model.schedules ?? []),
    metadata: rowsFromMetadata(model.metadata),
  };
}

function validatePath(path: string): string | null {
  if (!path.startsWith("/")) return "Start the path with /.";
  if (path.length > MAX_PATH_LENGTH) return `Use at most ${MAX_PATH_LENGTH} characters.`;
  if (!PATH_PATTERN.test(path)) return "Use letters, digits and . _ ~ / % - only.";
  return null;
}

export function validateForm(form: ModelForm): FormErrors {
  const errors: FormErrors = {};
  if (!PROJECT_NAME_PATTERN.test(form.project)) errors.project = "Choose a project.";
  const name = validateName(form.name.trim());
  if (name) errors.name = name;
  if (!form.version.trim()) errors.version = "Enter a version.";
  else if (form.version.trim().length > MAX_VERSION_LENGTH) errors.version = `Use at most ${MAX_VERSION_LENGTH} characters.`;
  else if (!VERSION_PATTERN.test(form.version.trim())) errors.version = "Use letters, digits and . _ + - only (for example 1.2.0).";
  if (form.description.length > MAX_DESCRIPTION_LENGTH) errors.description = `Use at most ${MAX_DESCRIPTION_LENGTH} characters.`;
  if (form.kind === "image") {
    if (!form.dockerImage.trim()) errors.dockerImage = "Enter an image, such as registry/repository:tag.";
    else if (form.dockerImage.trim().length > MAX_IMAGE_LENGTH) errors.dockerImage = `Use at most ${MAX_IMAGE_LENGTH} characters.`;
    else if (!IMAGE_PATTERN.test(form.dockerImage.trim()))
      errors.dockerImage = "Use an image reference such as registry/repository:tag (letters, digits and . _ / : @ -).";
  } else if (!ARTIFACT_FORMATS.includes(form.artifactFormat)) {
    errors.artifactFormat = "Choose a format.";
  }
  const port = validatePort(form.containerPort);
  if (port) errors.containerPort = port;
  if (!FARGATE_SIZES.has(form.containerCpu)) errors.containerCpu = "Choose a vCPU size.";
  else if (!isFargateSize(form.containerCpu, form.containerMemory))
    errors.containerMemory = `Choose one of ${memoryChoices(form.containerCpu).join(", ")} GB for ${form.containerCpu} vCPU.`;
  const env = validateEnv(form.env);
  if (env.general) errors.env = env.general;
  if (Object.keys(env.rows).length) errors.envRows = env.rows;
  const predict = validatePath(form.predictPath);
  if (predict) errors.predictPath = predict;
  const health = validatePath(form.healthPath);
  if (health) errors.healthPath = health;
  const idle = form.idleStopMinutes.trim();
  if (idle && !(/^\d+$/.test(idle) && Number(idle) >= 1 && Number(idle) <= MAX_IDLE_STOP_MINUTES))
    errors.idleStopMinutes = `Enter whole minutes from 1 to ${MAX_IDLE_STOP_MINUTES} (a week), or leave it empty to keep the model running.`;
  const schedules = validateSchedules(form.schedules);
  if (schedules.general) errors.schedules = schedules.general;
  if (Object.keys(schedules.rows).length) errors.scheduleRows = schedules.rows;
  return withMetadataErrors(errors, form.metadata, true);
}

/**
 * `errors` with the metadata rows' own, replacing any before: `complete` on submit; while typing (before any
 * submit) only what is wrong already, so a key is checked as it is typed.
 */
export function withMetadataErrors(errors: FormErrors, rows: readonly MetadataRow[], complete: boolean): FormErrors {
  const { metadata: _general, metadataRows: _rows, ...rest } = errors;
  const found = validateMetadata(rows, { complete });
  const next: FormErrors = rest;
  if (found.general) next.metadata = found.general;
  if (Object.keys(found.rows).length) next.metadataRows = found.rows;
  return next;
}

export function hasErrors(errors: FormErrors): boolean {
  return Object.keys(errors).length > 0;
}

type EnvBody = NonNullable<ModelCreate["env"]>;

/** The env as the API takes it: a secret with a new value is sent once, a stored one untouched as `{secret: true}`. */
function envObject(rows: readonly EnvRow[]): EnvBody {
  const env: EnvBody = {};
  for (const row of rows) {
    const key = row.key.trim();
    if (!key) continue;
    if (!row.secret) env[key] = row.value;
    else env[key] = row.stored && row.value === "" ? { secret: true } : { secret: true, value: row.value };
  }
  return env;
}

/** The POST /models body: only fields the API knows (it rejects unknown ones). */
export function toCreateBody(form: ModelForm): ModelCreate {
  const body: ModelCreate = {
    name: form.name.trim(),
    version: form.version.trim(),
    containerPort: Number(form.containerPort),
    containerCpu: form.containerCpu,
    containerMemory: form.containerMemory,
    env: envObject(form.env),
    predictPath: form.predictPath.trim(),
    healthPath: form.healthPath.trim(),
  };
  if (form.description.trim()) body.description = form.description.trim();
  if (form.kind === "image") body.dockerImage = form.dockerImage.trim();
  else body.artifactFormat = form.artifactFormat;
  // "private" is the server's default: sent only when public, so servers without the field still accept the body.
  if (form.endpointVisibility === "public") body.endpointVisibility = "public";
  if (form.idleStopMinutes.trim()) body.idleStopMinutes = Number(form.idleStopMinutes.trim());
  if (form.schedules.length) body.schedules = schedulesBody(form.schedules);
  // Sent only when there is some, so a server that predates metadata still takes the body.
  const metadata = metadataObject(form.metadata);
  if (Object.keys(metadata).length) body.metadata = metadata;
  // The server's default too: sent only for another project, as visibility is.
  if (form.project !== DEFAULT_PROJECT) body.project = form.project;
  return body;
}

/** Whether the env asked for is what the model has: a secret sent with a value is always a change. */
function sameEnv(asked: EnvBody, shown: NonNullable<Model["env"]>): boolean {
  const keys = Object.keys(asked);
  return (
    keys.length === Object.keys(shown).length &&
    keys.every((k) => {
      const a = asked[k];
      const b = shown[k];
      if (typeof a === "string" || typeof b === "string") return a === b;
      return a !== undefined && b !== undefined && a.value == null;
    })
  );
}

/** The PUT body: only what changed relative to `model`, so a partial update stays minimal. */
export function toUpdateBody(form: ModelForm, model: Model): ModelUpdate {
  const next = toCreateBody(form);
  const changes: ModelUpdate = {};
  if (form.project !== model.project) changes.project = form.project;
  if (next.name !== model.name) changes.name = next.name;
  if (next.version !== model.version) changes.version = next.version;
  if ((next.description ?? "") !== (model.description ?? "")) changes.description = next.description ?? "";
  if (form.kind === "image") {
    if (next.dockerImage !== model.dockerImage) changes.dockerImage = next.dockerImage;
    if (model.artifactFormat !== null) changes.artifactFormat = null;
  } else {
    if (next.artifactFormat !== model.artifactFormat) changes.artifactFormat = next.artifactFormat;
    if (model.dockerImage !== null) changes.dockerImage = null;
  }
  if (next.containerPort !== model.containerPort) changes.containerPort = next.containerPort;
  if (next.containerCpu !== model.containerCpu) changes.containerCpu = next.containerCpu;
  if (next.containerMemory !== model.containerMemory) changes.containerMemory = next.containerMemory;
  if (!sameEnv(next.env ?? {}, model.env ?? {})) changes.env = next.env;
  if (next.predictPath !== model.predictPath) changes.predictPath = next.predictPath;
  if (next.healthPath !== model.healthPath) changes.healthPath = next.healthPath;
  if (form.endpointVisibility !== (model.endpointVisibility ?? "private")) changes.endpointVisibility = form.endpointVisibility;
  const idle = next.idleStopMinutes ?? null;
  if (idle !== (model.idleStopMinutes ?? null)) changes.idleStopMinutes = idle;
  const schedules = next.schedules ?? [];
  if (!sameSchedules(schedules, model.schedules ?? [])) changes.schedules = schedules;
  // The whole map replaces the model's (an empty one clears it).
  const metadata = next.metadata ?? {};
  if (!sameMetadata(metadata, model.metadata ?? {})) changes.metadata = metadata;
  return changes;
}

/** Where an API field error belongs in the form: "env.FOO" goes to the row whose key is FOO. */
export function apiErrorsToForm(
  details: readonly { field: string; message: string }[],
  form: ModelForm,
): { errors: FormErrors; unplaced: string[] } {
  const errors: FormErrors = {};
  const unplaced: string[] = [];
  const metadataDetails: { field: string; message: string }[] = [];
  const simple = new Set([
    "project",
    "name",
    "version",
    "description",
    "dockerImage",
    "artifactFormat",
    "containerPort",
    "containerCpu",
    "containerMemory",
    "predictPath",
    "healthPath",
    "endpointVisibility",
    "idleStopMinutes",
  ]);
  for (const { field, message } of details) {
    if (simple.has(field)) {
      (errors as Record<string, string>)[field] = message;
    } else if (field === "env") {
      errors.env = message;
    } else if (field.startsWith("env.")) {
      const key = field.slice(4);
      const row = form.env.find((r) => r.key.trim() === key);
      if (row) {
        errors.envRows = { ...errors.envRows, [row.id]: { ...errors.envRows?.[row.id], value: message } };
      } else {
        errors.env = `${key}: ${message}`;
      }
    } else if (field === "schedules") {
      errors.schedules = message;
    } else if (/^schedules\.\d+\.(cron|timezone)$/.test(field)) {
      // "schedules.1.cron": the second row's cron field.
      const [, index = "", part = ""] = field.split(".");
      const row = form.schedules[Number(index)];
      if (row) {
        const key = part as keyof ScheduleRowErrors;
        errors.scheduleRows = { ...errors.scheduleRows, [row.id]: { ...errors.scheduleRows?.[row.id], [key]: message } };
      } else {
        errors.schedules = `Schedule ${Number(index) + 1}: ${message}`;
      }
    } else if (field === "metadata" || field.startsWith("metadata.")) {
      metadataDetails.push({ field, message });
    } else {
      unplaced.push(field ? `${field}: ${message}` : message);
    }
  }
  const metadata = metadataErrorsFromApi(metadataDetails, form.metadata);
  if (metadata.general) errors.metadata = metadata.general;
  if (Object.keys(metadata.rows).length) errors.metadataRows = metadata.rows;
  return { errors, unplaced };
}
