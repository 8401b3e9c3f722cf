/**
 * Add and edit a model. Client-side validation mirrors the API; the API's own field errors are
 * shown next to the same fields. Edits send only what changed, guarded by If-Match; a 409 means
 * someone else changed the model and the user is offered a reload.
 */
import { useId, useRef, useState, type ReactNode } from "react";
import { ApiError } from "../api/client";
import { ARTIFACT_FORMATS, type ArtifactFormat, type EndpointVisibility, type Model } from "../api/types";
import { useUser } from "../auth/user";
import { useApi, useNotify } from "../context";
import { useAsync } from "../hooks/useAsync";
import { isIdle } from "../lib/models";
import { href, navigate } from "../lib/routes";
import {
  CPU_CHOICES,
  MAX_ENV_KEYS,
  apiErrorsToForm,
  emptyForm,
  envRow,
  formFromModel,
  hasErrors,
  memoryChoices,
  toCreateBody,
  toUpdateBody,
  validateForm,
  type FormErrors,
  type ModelForm as FormState,
} from "../lib/validation";
import { ErrorState, InlineError, Loading, errorText } from "../components/States";
import { PageTitle } from "../components/PageTitle";
import { Time } from "../components/Time";

const FORMAT_LABELS: Record<ArtifactFormat, string> = {
  joblib: "joblib (scikit-learn)",
  pickle: "pickle",
  onnx: "ONNX",
  python: "Python module",
};

export function CreateModelPage() {
  const api = useApi();
  const notify = useNotify();
  return (
    <section className="page page-narrow">
      <p className="breadcrumb">
        <a href={href({ page: "list" })}>Models</a> /
      </p>
      <PageTitle>Add a model</PageTitle>
      <ModelEditor
        initial={emptyForm()}
        submitLabel="Create model"
        onSubmit={async (form) => {
          const created = await api.createModel(toCreateBody(form));
          notify(`Created ${created.name}.`);
          navigate({ page: "detail", id: created.id, tab: "operations" });
        }}
        cancelHref={href({ page: "list" })}
      />
    </section>
  );
}

export function EditModelPage({ id }: { id: string }) {
  const api = useApi();
  const notify = useNotify();
  const model = useAsync((signal) => api.getModel(id, signal), [api, id]);
  // Bumped on reload after a conflict, so the editor starts again from the latest record.
  const [formKey, setFormKey] = useState(0);

  if (model.error && !model.data) return <ErrorState error={model.error} title="Could not load the model" onRetry={model.reload} />;
  if (!model.data) return <Loading label="Loading the model…" />;
  const current = model.data;

  return (
    <section className="page page-narrow">
      <p className="breadcrumb">
        <a href={href({ page: "list" })}>Models</a> / <a href={href({ page: "detail", id, tab: "operations" })}>{current.name}</a> /
      </p>
      <PageTitle>Edit {current.name}</PageTitle>
      <p className="muted small">
        Revision {current.revision}, last updated <Time iso={current.updatedAt} /> by {current.updatedBy}.
      </p>
      <ModelEditor
        key={`${current.id}:${current.revision}:${formKey}`}
        initial={formFromModel(current)}
        model={current}
        submitLabel="Save changes"
        cancelHref={href({ page: "detail", id, tab: "operations" })}
        onReload={async () => {
          const latest = await api.getModel(id);
          model.setData(latest);
          setFormKey((k) => k + 1);
        }}
        onSubmit={async (form) => {
          const changes = toUpdateBody(form, current);
          if (Object.keys(changes).length === 0) {
            notify("Nothing changed.", "info");
            navigate({ page: "detail", id, tab: "operations" });
            return;
          }
          const saved = await api.updateModel(id, changes, current.revision);
          notify(`Saved ${saved.name}.`);
          navigate({ page: "detail", id, tab: "operations" });
        }}
      />
    </section>
  );
}

interface EditorProps {
  initial: FormState;
  model?: Model;
  submitLabel: string;
  cancelHref: string;
  onSubmit: (form: FormState) => Promise<void>;
  onReload?: () => Promise<void>;
}

function ModelEditor({ initial, model, submitLabel, cancelHref, onSubmit, onReload }: EditorProps) {
  const [form, setForm] = useState<FormState>(initial);
  const [errors, setErrors] = useState<FormErrors>({});
  const [submitted, setSubmitted] = useState(false);
  const [saving, setSaving] = useState(false);
  const [formError, setFormError] = useState<ReactNode>(null);
  const [conflict, setConflict] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const runtimeLocked = !!model && !isIdle(model);
  const { authEnabled } = useUser();

  const update = (patch: Partial<FormState>) => {
    const next = { ...form, ...patch };
    setForm(next);
    if (submitted) setErrors(validateForm(next));
  };

  const focusFirstError = () =>
    window.requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>("[aria-invalid='true']")?.focus());

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    setFormError(null);
    const found = validateForm(form);
    setErrors(found);
    if (hasErrors(found)) {
      setFormError("Please correct the highlighted fields.");
      focusFirstError();
      return;
    }
    setSaving(true);
    try {
      await onSubmit(form);
    } catch (err) {
      if (err instanceof ApiError && err.isConflict && model) {
        setConflict(true);
      } else if (err instanceof ApiError && err.details.length) {
        const placed = apiErrorsToForm(err.details, form);
        setErrors(placed.errors);
        setFormError(
          <>
            {err.message}
            {placed.unplaced.length > 0 && (
              <ul>
                {placed.unplaced.map((u) => (
                  <li key={u}>{u}</li>
                ))}
              </ul>
            )}
          </>,
        );
        focusFirstError();
      } else if (err instanceof ApiError && err.isConflict) {
        setErrors({ name: err.message });
        setFormError(err.message);
        focusFirstError();
      } else {
        setFormError(errorText(err));
      }
    } finally {
      setSaving(false);
    }
  };

  const memory = memoryChoices(form.containerCpu);

  return (
    <form ref={formRef} className="form" onSubmit={submit} noValidate aria-busy={saving}>
      {conflict && (
        <div className="banner banner-warning" role="alert">
          <p>
            <strong>This model was changed by someone else</strong> since you opened this form, so your changes were not saved.
          </p>
          <p>Reload to edit the latest version (your changes here will be discarded).</p>
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => {
              void onReload?.().catch((err: unknown) => setFormError(errorText(err)));
            }}
          >
            Reload the latest version
          </button>
        </div>
      )}
      {formError && <InlineError>{formError}</InlineError>}

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
      <Field label="Description" error={errors.description} optional>
        {(p) => <textarea {...p} rows={2} value={form.description} onChange={(e) => update({ description: e.target.value })} />}
      </Field>

      {authEnabled && (
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
      )}

      {runtimeLocked && (
        <p className="banner banner-info">
          The model is {model?.status.toLowerCase()}: its container settings can change only while it is stopped.
        </p>
      )}

      <fieldset className="fieldset" disabled={runtimeLocked}>
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
          <Field
            label="Container image"
            error={errors.dockerImage}
            hint="For example 123456789012.dkr.ecr.us-east-1.amazonaws.com/iris:1.0"
          >
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

      <fieldset className="fieldset" disabled={runtimeLocked}>
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
            {(p) => (
              <input
                {...p}
                className="mono"
                value={form.predictPath}
                onChange={(e) => update({ predictPath: e.target.value })}
                spellCheck={false}
              />
            )}
          </Field>
          <Field label="Health path" error={errors.healthPath}>
            {(p) => (
              <input
                {...p}
                className="mono"
                value={form.healthPath}
                onChange={(e) => update({ healthPath: e.target.value })}
                spellCheck={false}
              />
            )}
          </Field>
        </div>
      </fieldset>

      <fieldset className="fieldset" disabled={runtimeLocked}>
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
                    onChange={(e) => update({ env: form.env.map((r) => (r.id === row.id ? { ...r, key: e.target.value } : r)) })}
                  />
                )}
              </Field>
              <Field label={`Value ${index + 1}`} error={rowErrors?.value} compact>
                {(p) => (
                  <input
                    {...p}
                    className="mono"
                    value={row.value}
                    spellCheck={false}
                    autoComplete="off"
                    onChange={(e) => update({ env: form.env.map((r) => (r.id === row.id ? { ...r, value: e.target.value } : r)) })}
                  />
                )}
              </Field>
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

      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={saving || conflict}>
          {saving ? "Saving…" : submitLabel}
        </button>
        <a className="btn" href={cancelHref}>
          Cancel
        </a>
      </div>
    </form>
  );
}

interface FieldInputProps {
  id: string;
  "aria-invalid": boolean;
  "aria-describedby"?: string;
}

function Field({
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
