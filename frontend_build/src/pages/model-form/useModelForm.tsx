/**
 * The model form's state and behaviour, without its markup: values as typed, validation that runs on
 * every change once the user has tried to submit, submission with the API's field errors placed on
 * their fields, the 409 of a stale edit turned into a conflict the page offers to reload, and a quota's 409 (a new
 * model or a move the project has no room for) kept apart, for a banner naming the quota.
 */
import { useRef, useState, type FormEvent, type ReactNode } from "react";
import { ApiError } from "../../api/client";
import { errorText } from "../../components/States";
import { sentence } from "../../lib/format";
import { apiErrorsToForm, hasErrors, validateForm, withMetadataErrors, type FormErrors, type ModelForm } from "../../lib/validation";

export interface ModelFormState {
  form: ModelForm;
  errors: FormErrors;
  saving: boolean;
  /** A message above the form: what to fix, or why saving failed. */
  formError: ReactNode;
  /** Someone else changed the model since the form opened (edit only). */
  conflict: boolean;
  /** The project's quota refused the new model, or the move into it (409 quota_exceeded). */
  quotaError: { error: ApiError; project: string } | null;
  formRef: React.RefObject<HTMLFormElement | null>;
  update: (patch: Partial<ModelForm>) => void;
  submit: (event: FormEvent) => Promise<void>;
  setFormError: (error: ReactNode) => void;
}

/** `editing` says a 409 means a stale revision (reload) rather than a taken value. */
export function useModelForm(initial: ModelForm, onSubmit: (form: ModelForm) => Promise<void>, editing: boolean): ModelFormState {
  const [form, setForm] = useState<ModelForm>(initial);
  const [errors, setErrors] = useState<FormErrors>({});
  const [submitted, setSubmitted] = useState(false);
  const [saving, setSaving] = useState(false);
  const [formError, setFormError] = useState<ReactNode>(null);
  const [conflict, setConflict] = useState(false);
  const [quotaError, setQuotaError] = useState<{ error: ApiError; project: string } | null>(null);
  const formRef = useRef<HTMLFormElement>(null);

  const update = (patch: Partial<ModelForm>) => {
    const next = { ...form, ...patch };
    setForm(next);
    if (submitted) setErrors(validateForm(next));
    // Metadata keys are checked as they are typed, before any submit.
    else if (patch.metadata) setErrors((old) => withMetadataErrors(old, next.metadata, false));
  };

  const focusFirstError = () =>
    window.requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>("[aria-invalid='true']")?.focus());

  const showApiError = (err: unknown) => {
    if (err instanceof ApiError && err.isQuotaExceeded) {
      // No room in the project chosen (a new model, or one moved there): the banner names the quota, the field is the cause.
      setQuotaError({ error: err, project: form.project });
      setErrors({ project: sentence(err.message) });
      focusFirstError();
    } else if (err instanceof ApiError && err.isConflict && editing) {
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
    } else if (err instanceof ApiError && (err.status === 403 || err.isNotFound) && /\bproject\b/.test(err.message)) {
      // No role (404) or too low a role (403) in the project chosen: said on the project field.
      setErrors({ project: errorText(err) });
      setFormError(errorText(err));
      focusFirstError();
    } else if (err instanceof ApiError && err.isConflict) {
      setErrors({ name: err.message });
      setFormError(err.message);
      focusFirstError();
    } else {
      setFormError(errorText(err));
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    setFormError(null);
    setQuotaError(null);
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
      showApiError(err);
    } finally {
      setSaving(false);
    }
  };

  return { form, errors, saving, formError, conflict, quotaError, formRef, update, submit, setFormError };
}
