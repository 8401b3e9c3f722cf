/**
 * The model form's field groups: the project, the basics (name, version, description, visibility), what to run
 * (an artifact format or an image), the container's size, port and paths, the environment
 * variables, the start/stop schedules and the metadata. Each group renders from the form state and reports
 * changes through `update`.
 */
import { useId, type ReactNode } from "react";
import { ARTIFACT_FORMATS, SCHEDULE_ACTIONS, type ArtifactFormat, type EndpointVisibility, type ScheduleAction } from "../../api/types";
import {
  MAX_METADATA_ENTRIES,
  MAX_METADATA_KEY,
  METADATA_RULE,
  metadataRow,
  type MetadataRow,
  type MetadataRowErrors,
} from "../../lib/metadata";
import { MAX_SCHEDULES, browserTimezone, scheduleRow, type ScheduleRow } from "../../lib/schedules";
import { CPU_CHOICES, MAX_ENV_KEYS, envRow, memoryChoices, type FormErrors, type ModelForm } from "../../lib/validation";

export interface GroupProps {
  form: ModelForm;
  errors: FormErrors;
  update: (patch: Partial<ModelForm>) => void;
}

const FORMAT_LABELS: Record<ArtifactFormat, string> = {
  joblib: "joblib (scikit-learn)",
  pickle: "pickle",
  onnx: "ONNX",
  python: "Python module",
  xgboost: "XGBoost native (.json/.ubj)",
  lightgbm: "LightGBM native (.txt)",
  bundle: "bundle (.zip/.tar.gz with model.py)",
  mlflow: "MLflow model (zipped directory)",
};

interface FieldInputProps {
  id: string;
  "aria-invalid": boolean;
  "aria-describedby"?: string;
}

/** A labelled control with its error and hint, wired for screen readers. */
export function Field({
  label,
  error,
  hint,
  optional,
  compact,
  children,
}: {
  label: string;
  error?: string;
  hint?: string;
  optional?: boolean;
  compact?: boolean;
  children: (props: FieldInputProps) => ReactNode;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [error ? errorId : null, hint ? hintId : null].filter(Boolean).join(" ") || undefined;
  return (
    <div className={compact ? "field field-compact" : "field"}>
      <label htmlFor={id} className={compact ? "label visually-hidden-narrow" : "label"}>
        {label}
        {optional && <span className="muted"> (optional)</span>}
      </label>
      {children({ id, "aria-invalid": !!error, "aria-describedby": describedBy })}
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
      {hint && (
        <p id={hintId} className="hint">
          {hint}
        </p>
      )}
    </div>
  );
}

/** The project the model is in: those where the user may add models (`choices`). On edit, another choice moves it. */
export function ProjectField({ form, errors, update, choices, editing }: GroupProps & { choices: readonly string[]; editing: boolean }) {
  return (
    <Field
      label="Project"
      error={errors.project}
      hint={
        editing
          ? "Its members (and the stage's roles) may see and change the model. Moving it needs the editor role in both projects."
          : "Its members (and the stage's roles) may see and change the model. The projects listed are those where you may add models."
      }
    >
      {(p) => (
        <select {...p} value={form.project} onChange={(e) => update({ project: e.target.value })}>
          {choices.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function BasicsFields({ form, errors, update }: GroupProps) {
  return (
    <>
      <Field label="Name" error={errors.name} hint="1–64 characters: lowercase letters, digits and hyphens.">
        {(p) => (
          <input
            {...p}
            value={form.name}
            onChange={(e) => update({ name: e.target.value })}
            autoComplete="off"
            spellCheck={false}
            maxLength={80}
            required
          />
        )}
      </Field>
      <Field label="Version" error={errors.version}>
        {(p) => <input {...p} value={form.version} onChange={(e) => update({ version: e.target.value })} autoComplete="off" required />}
      </Field>
      <Field
        label="Description"
        error={errors.description}
        optional
        hint="Markdown: **bold**, _italic_, lists, `code`, [links](https://example.com). HTML is shown as text. Up to 2,048 characters."
      >
        {(p) => <textarea {...p} rows={4} value={form.description} onChange={(e) => update({ description: e.target.value })} />}
      </Field>
      <Field
        label="Endpoint visibility"
        error={errors.endpointVisibility}
        hint="Private: callers need a token (a client token, or a signed-in user's). Public: anyone who can reach the API may call it."
      >
        {(p) => (
          <select
            {...p}
            value={form.endpointVisibility}
            onChange={(e) => update({ endpointVisibility: e.target.value as EndpointVisibility })}
          >
            <option value="private">Private (token required)</option>
            <option value="public">Public (no token)</option>
          </select>
        )}
      </Field>
      <Field
        label="Idle stop (minutes)"
        error={errors.idleStopMinutes}
        optional
        hint="Stop the containers after this many minutes without a request; the model rests IDLE and the next request wakes it (it waits for the start). Empty: keep running."
      >
        {(p) => (
          <input
            {...p}
            inputMode="numeric"
            value={form.idleStopMinutes}
            onChange={(e) => update({ idleStopMinutes: e.target.value })}
            placeholder="off"
            autoComplete="off"
          />
        )}
      </Field>
    </>
  );
}

export function SourceFields({ form, errors, update, disabled }: GroupProps & { disabled: boolean }) {
  return (
    <fieldset className="fieldset" disabled={disabled}>
      <legend>What to run</legend>
      <div className="radio-row" role="radiogroup" aria-label="Model kind">
        <label className="check">
          <input
            type="radio"
            name="kind"
            value="artifact"
            checked={form.kind === "artifact"}
            onChange={() => update({ kind: "artifact" })}
          />
          A trained model file (artifact)
        </label>
        <label className="check">
          <input type="radio" name="kind" value="image" checked={form.kind === "image"} onChange={() => update({ kind: "image" })} />A
          container image
        </label>
      </div>
      {form.kind === "image" ? (
        <Field label="Container image" error={errors.dockerImage} hint="For example 123456789012.dkr.ecr.us-east-1.amazonaws.com/iris:1.0">
          {(p) => (
            <input
              {...p}
              className="mono"
              value={form.dockerImage}
              onChange={(e) => update({ dockerImage: e.target.value })}
              spellCheck={false}
              autoComplete="off"
            />
          )}
        </Field>
      ) : (
        <Field label="Artifact format" error={errors.artifactFormat} hint="You upload the file on the model's page after saving.">
          {(p) => (
            <select {...p} value={form.artifactFormat} onChange={(e) => update({ artifactFormat: e.target.value as ArtifactFormat })}>
              {ARTIFACT_FORMATS.map((f) => (
                <option key={f} value={f}>
                  {FORMAT_LABELS[f]}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
    </fieldset>
  );
}

export function ContainerFields({ form, errors, update, disabled }: GroupProps & { disabled: boolean }) {
  const memory = memoryChoices(form.containerCpu);
  const pathInput = (key: "predictPath" | "healthPath") => (p: FieldInputProps) => (
    <input {...p} className="mono" value={form[key]} onChange={(e) => update({ [key]: e.target.value })} spellCheck={false} />
  );
  return (
    <fieldset className="fieldset" disabled={disabled}>
      <legend>Container</legend>
      <div className="grid-3">
        <Field label="vCPU" error={errors.containerCpu}>
          {(p) => (
            <select
              {...p}
              value={String(form.containerCpu)}
              onChange={(e) => {
                const cpu = Number(e.target.value);
                const choices = memoryChoices(cpu);
                update({
                  containerCpu: cpu,
                  containerMemory: choices.includes(form.containerMemory) ? form.containerMemory : (choices[0] ?? 1),
                });
              }}
            >
              {CPU_CHOICES.map((c) => (
                <option key={c} value={String(c)}>
                  {c} vCPU
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Memory" error={errors.containerMemory}>
          {(p) => (
            <select {...p} value={String(form.containerMemory)} onChange={(e) => update({ containerMemory: Number(e.target.value) })}>
              {!memory.includes(form.containerMemory) && (
                <option value={String(form.containerMemory)}>{form.containerMemory} GB (not valid)</option>
              )}
              {memory.map((m) => (
                <option key={m} value={String(m)}>
                  {m} GB
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Port" error={errors.containerPort}>
          {(p) => (
            <input {...p} inputMode="numeric" value={form.containerPort} onChange={(e) => update({ containerPort: e.target.value })} />
          )}
        </Field>
      </div>
      <div className="grid-2">
        <Field label="Predict path" error={errors.predictPath}>
          {pathInput("predictPath")}
        </Field>
        <Field label="Health path" error={errors.healthPath}>
          {pathInput("healthPath")}
        </Field>
      </div>
    </fieldset>
  );
}

export function EnvFields({ form, errors, update, disabled }: GroupProps & { disabled: boolean }) {
  const setRow = (id: number, patch: { key?: string; value?: string; secret?: boolean }) =>
    update({ env: form.env.map((r) => (r.id === id ? { ...r, ...patch } : r)) });
  return (
    <fieldset className="fieldset" disabled={disabled}>
      <legend>Environment variables</legend>
      {errors.env && (
        <p className="field-error" role="alert">
          {errors.env}
        </p>
      )}
      {form.env.length === 0 && <p className="muted small">None.</p>}
      {form.env.map((row, index) => {
        const rowErrors = errors.envRows?.[row.id];
        return (
          <div className="env-row" key={row.id}>
            <Field label={`Name ${index + 1}`} error={rowErrors?.key} compact>
              {(p) => (
                <input
                  {...p}
                  className="mono"
                  value={row.key}
                  placeholder="NAME"
                  spellCheck={false}
                  autoComplete="off"
                  onChange={(e) => setRow(row.id, { key: e.target.value })}
                />
              )}
            </Field>
            <Field label={`Value ${index + 1}`} error={rowErrors?.value} compact>
              {(p) => (
                <input
                  {...p}
                  className="mono"
                  type={row.secret ? "password" : "text"}
                  value={row.value}
                  placeholder={row.stored ? "stored secret: leave empty to keep it" : undefined}
                  spellCheck={false}
                  autoComplete={row.secret ? "new-password" : "off"}
                  onChange={(e) => setRow(row.id, { value: e.target.value })}
                />
              )}
            </Field>
            <label className="env-secret small" title="Kept in the secret store, given to the container at start, never shown again">
              <input
                type="checkbox"
                aria-label={`Secret ${index + 1}`}
                checked={row.secret}
                disabled={row.stored}
                onChange={(e) => setRow(row.id, { secret: e.target.checked })}
              />{" "}
              Secret
            </label>
            <button
              type="button"
              className="btn btn-small env-remove"
              aria-label={`Remove variable ${row.key || index + 1}`}
              onClick={() => update({ env: form.env.filter((r) => r.id !== row.id) })}
            >
              Remove
            </button>
          </div>
        );
      })}
      <button
        type="button"
        className="btn btn-small"
        disabled={form.env.length >= MAX_ENV_KEYS}
        onClick={() => update({ env: [...form.env, envRow()] })}
      >
        Add variable
      </button>
    </fieldset>
  );
}

/** Start/stop schedules: not a container setting, so they may change while the model runs. */
export function ScheduleFields({ form, errors, update }: GroupProps) {
  const setRow = (id: number, patch: Partial<Omit<ScheduleRow, "id">>) =>
    update({ schedules: form.schedules.map((r) => (r.id === id ? { ...r, ...patch } : r)) });
  return (
    <fieldset className="fieldset">
      <legend>Schedules</legend>
      <p className="hint">
        Start or stop the model by the clock (office hours, nights off): a 5-field cron expression (minute hour day-of-month month
        day-of-week) in a time zone. They run within about a minute of their time.
      </p>
      {errors.schedules && (
        <p className="field-error" role="alert">
          {errors.schedules}
        </p>
      )}
      {form.schedules.length === 0 && <p className="muted small">None.</p>}
      {form.schedules.map((row, index) => {
        const rowErrors = errors.scheduleRows?.[row.id];
        return (
          <div className="env-row schedule-row" key={row.id} data-testid="schedule-row">
            <Field label={`Action ${index + 1}`} compact>
              {(p) => (
                <select {...p} value={row.action} onChange={(e) => setRow(row.id, { action: e.target.value as ScheduleAction })}>
                  {SCHEDULE_ACTIONS.map((action) => (
                    <option key={action} value={action}>
                      {action === "start" ? "Start" : "Stop"}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label={`Cron ${index + 1}`} error={rowErrors?.cron} compact>
              {(p) => (
                <input
                  {...p}
                  className="mono"
                  value={row.cron}
                  placeholder="0 8 * * 1-5"
                  spellCheck={false}
                  autoComplete="off"
                  onChange={(e) => setRow(row.id, { cron: e.target.value })}
                />
              )}
            </Field>
            <Field label={`Time zone ${index + 1}`} error={rowErrors?.timezone} compact>
              {(p) => (
                <input
                  {...p}
                  value={row.timezone}
                  placeholder="Europe/Berlin"
                  spellCheck={false}
                  autoComplete="off"
                  onChange={(e) => setRow(row.id, { timezone: e.target.value })}
                />
              )}
            </Field>
            <button
              type="button"
              className="btn btn-small env-remove"
              aria-label={`Remove schedule ${index + 1}`}
              onClick={() => update({ schedules: form.schedules.filter((r) => r.id !== row.id) })}
            >
              Remove
            </button>
          </div>
        );
      })}
      <button
        type="button"
        className="btn btn-small"
        disabled={form.schedules.length >= MAX_SCHEDULES}
        onClick={() => update({ schedules: [...form.schedules, scheduleRow("start", "", browserTimezone())] })}
      >
        Add schedule
      </button>
    </fieldset>
  );
}

/** Key/value rows (a model's or a version's metadata): add and remove rows, each key and value with its error. */
export function MetadataRowsEditor({
  rows,
  rowErrors,
  general,
  onChange,
  disabled,
}: {
  rows: readonly MetadataRow[];
  rowErrors?: Record<number, MetadataRowErrors>;
  general?: string | null;
  onChange: (rows: MetadataRow[]) => void;
  disabled?: boolean;
}) {
  const setRow = (id: number, patch: { key?: string; value?: string; secret?: boolean }) =>
    onChange(rows.map((r) => (r.id === id ? { ...r, ...patch } : r)));
  return (
    <fieldset className="fieldset" disabled={disabled} data-testid="metadata-editor">
      <legend>Metadata</legend>
      <p className="hint">Facts a person scans in the list, such as team=fraud or dataset=2024-05. {METADATA_RULE}</p>
      {general && (
        <p className="field-error" role="alert">
          {general}
        </p>
      )}
      {rows.length === 0 && <p className="muted small">None.</p>}
      {rows.map((row, index) => {
        const errors = rowErrors?.[row.id];
        return (
          <div className="env-row" key={row.id} data-testid="metadata-row">
            <Field label={`Metadata key ${index + 1}`} error={errors?.key} compact>
              {(p) => (
                <input
                  {...p}
                  className="mono"
                  value={row.key}
                  placeholder="team"
                  spellCheck={false}
                  autoComplete="off"
                  maxLength={MAX_METADATA_KEY + 16}
                  onChange={(e) => setRow(row.id, { key: e.target.value })}
                />
              )}
            </Field>
            <Field label={`Metadata value ${index + 1}`} error={errors?.value} compact>
              {(p) => (
                <input
                  {...p}
                  value={row.value}
                  placeholder="fraud"
                  spellCheck={false}
                  autoComplete="off"
                  onChange={(e) => setRow(row.id, { value: e.target.value })}
                />
              )}
            </Field>
            <button
              type="button"
              className="btn btn-small env-remove"
              aria-label={`Remove metadata ${row.key.trim() || index + 1}`}
              onClick={() => onChange(rows.filter((r) => r.id !== row.id))}
            >
              Remove
            </button>
          </div>
        );
      })}
      <button
        type="button"
        className="btn btn-small"
        disabled={rows.length >= MAX_METADATA_ENTRIES}
        onClick={() => onChange([...rows, metadataRow()])}
      >
        Add metadata
      </button>
    </fieldset>
  );
}

/** The model's metadata: not a container setting, so it may change while the model runs. */
export function MetadataFields({ form, errors, update }: GroupProps) {
  return (
    <MetadataRowsEditor
      rows={form.metadata}
      rowErrors={errors.metadataRows}
      general={errors.metadata}
      onChange={(metadata) => update({ metadata })}
    />
  );
}
