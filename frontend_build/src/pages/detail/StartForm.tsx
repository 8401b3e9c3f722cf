/**
 * What the start forms of a replay and of a rollout share: the versions they offer as the candidate, the form's
 * state (values, checks shown once submitted, the API's 422 details on their fields and the rest under the form,
 * the submit), and its frame: the title, the error under the fields and the Start / Cancel buttons.
 */
import { useState, type ReactNode } from "react";
import { ApiError, type FieldError } from "../../api/client";
import type { Model } from "../../api/types";
import { InlineError, errorText } from "../../components/States";
import { Field } from "../model-form/fields";

/** The versions that can run (an image or an uploaded file), newest first. */
export function runnableVersions(model: Model): number[] {
  return model.versions
    .filter((v) => v.dockerImage || v.artifact)
    .map((v) => v.number)
    .sort((a, b) => b - a);
}

/** The versions that get some of the traffic. */
export function servingVersions(model: Model): Set<number> {
  return new Set(model.deployment.filter((d) => d.weight > 0).map((d) => d.version));
}

/** The newest runnable version that does not serve all the traffic: the likely candidate. */
export function likelyCandidate(model: Model): number | null {
  const serving = servingVersions(model);
  const runnable = runnableVersions(model);
  return runnable.find((v) => !serving.has(v)) ?? runnable[0] ?? null;
}

type FieldErrors = Partial<Record<string, string>>;
/** The form's fields that hold text. */
type TextKey<F> = { [K in keyof F]: F[K] extends string ? K : never }[keyof F] & string;

export interface StartFormState<F, E extends FieldErrors> {
  form: F;
  /** Changes fields, clearing the API's errors on them. */
  set: (patch: Partial<F>) => void;
  /** The API's errors on the fields, and the checks' once the form was submitted. */
  shown: E;
  busy: boolean;
  error: unknown;
  /** Whether some of the API's 422 details are shown on the fields. */
  placed: boolean;
  /** The API's 422 details of no field, as sentences. */
  rest: string[];
  submit: () => Promise<void>;
}

export function useStartForm<F extends object, B, E extends FieldErrors, R>({
  initial,
  validate,
  errorsFromApi,
  errorKey = (field) => field,
  send,
  onSent,
}: {
  initial: () => F;
  validate: (form: F) => { body: B | null; errors: E };
  errorsFromApi: (details: readonly FieldError[]) => { placed: E; rest: string[] };
  /** The error a field's edit clears (several fields may share one). */
  errorKey?: (field: string) => string;
  send: (body: B) => Promise<R>;
  onSent: (result: R) => void;
}): StartFormState<F, E> {
  const [form, setForm] = useState<F>(initial);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // The API's 422 details on their fields (each cleared when its field is edited); the rest under the form.
  const [apiErrors, setApiErrors] = useState<E>({} as E);
  const [rest, setRest] = useState<string[]>([]);
  const check = validate(form);
  const shown: E = { ...apiErrors, ...(touched ? check.errors : {}) };
  const set = (patch: Partial<F>) => {
    setForm((f) => ({ ...f, ...patch }));
    const edited = new Set(Object.keys(patch).map(errorKey));
    setApiErrors((old) => Object.fromEntries(Object.entries(old).filter(([k]) => !edited.has(k))) as E);
  };

  const submit = async () => {
    setTouched(true);
    if (!check.body) return;
    setBusy(true);
    setError(null);
    setApiErrors({} as E);
    setRest([]);
    try {
      onSent(await send(check.body));
    } catch (err) {
      setError(err);
      if (err instanceof ApiError && err.details.length) {
        const api = errorsFromApi(err.details);
        setApiErrors(api.placed);
        setRest(api.rest);
      }
    } finally {
      setBusy(false);
    }
  };

  return { form, set, shown, busy, error, placed: Object.keys(apiErrors).length > 0, rest, submit };
}

/** The form's frame: its title, the fields (`children`), the error of the last attempt, Start and Cancel. */
export function StartForm({
  state,
  title,
  className,
  testId,
  submitLabel,
  canSubmit = true,
  conflictNote,
  onClose,
  children,
}: {
  state: Pick<StartFormState<unknown, FieldErrors>, "busy" | "error" | "placed" | "rest" | "submit">;
  title: string;
  className: string;
  testId: string;
  submitLabel: string;
  canSubmit?: boolean;
  /** Said after the error when the API answers 409. */
  conflictNote?: string;
  onClose: () => void;
  children: ReactNode;
}) {
  const { busy, error } = state;
  return (
    <form
      className={`panel form ${className}`}
      aria-label={title}
      data-testid={testId}
      onSubmit={(e) => {
        e.preventDefault();
        if (!busy) void state.submit();
      }}
    >
      <h3 className="section-title">{title}</h3>
      {children}
      {error !== null && (
        <InlineError>
          {errorText(error)}
          {conflictNote && error instanceof ApiError && error.isConflict && conflictNote}
          {state.placed && ": see the fields above."}
          {state.rest.length > 0 && (
            <ul>
              {state.rest.map((line) => (
                <li key={line}>{line}</li>
              ))}
            </ul>
          )}
        </InlineError>
      )}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy || !canSubmit}>
          {busy ? "Starting…" : submitLabel}
        </button>
        <button type="button" className="btn" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** The candidate version: one of `versions`, or "Choose…" while none is chosen. */
export function CandidateField<F extends { candidateVersion: string }>({
  state,
  versions,
}: {
  state: StartFormState<F, FieldErrors>;
  versions: readonly number[];
}) {
  const value = state.form.candidateVersion;
  return (
    <Field label="Candidate version" error={state.shown.candidateVersion}>
      {(p) => (
        <select {...p} value={value} onChange={(e) => state.set({ candidateVersion: e.target.value } as Partial<F>)}>
          {value === "" && <option value="">Choose…</option>}
          {versions.map((v) => (
            <option key={v} value={String(v)}>
              v{v}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** A text input of the form, with its hint and its error. */
export function TextField<F extends object>({
  state,
  name,
  label,
  hint,
  inputMode,
  placeholder,
  type,
}: {
  state: StartFormState<F, FieldErrors>;
  name: TextKey<F>;
  label: string;
  hint?: string;
  inputMode?: "numeric" | "decimal";
  placeholder?: string;
  type?: "datetime-local";
}) {
  return (
    <Field label={label} error={state.shown[name]} hint={hint}>
      {(p) => (
        <input
          {...p}
          type={type}
          inputMode={inputMode}
          placeholder={placeholder}
          value={state.form[name] as string}
          onChange={(e) => state.set({ [name]: e.target.value } as Partial<F>)}
        />
      )}
    </Field>
  );
}
