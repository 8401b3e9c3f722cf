/**
 * A model's private registry credentials (editors): the user name and password ECS pulls the model's image
 * with (PUT /models/{id}/registry-credentials; DELETE clears them). The API keeps them in Secrets Manager and
 * never returns them: the record says only `privateRegistry`, the password field is a password input and is
 * emptied once saved.
 */
import { useState } from "react";
import { ApiError } from "../../api/client";
import type { Model } from "../../api/types";
import { useApi, useNotify } from "../../context";
import { useRoleIn } from "../../auth/user";
import { deniedReason } from "../../auth/roles";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { InlineError, errorText } from "../../components/States";
import { Field } from "../model-form/fields";
import { MAX_REGISTRY_USERNAME, validateCredentials, type CredentialErrors } from "../../lib/registry";

export function RegistryPanel({ model, onChanged }: { model: Model; onChanged: (model: Model) => void }) {
  const api = useApi();
  const notify = useNotify();
  const denied = deniedReason(useRoleIn(model.project), "edit", model.project);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<CredentialErrors>({});
  const [submitted, setSubmitted] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [clearing, setClearing] = useState(false);
  const [clearError, setClearError] = useState<unknown>(null);
  const stored = model.privateRegistry;

  const save = async () => {
    setSubmitted(true);
    const found = validateCredentials(username, password);
    setErrors(found);
    setFormError(null);
    if (found.username || found.password) return;
    setBusy(true);
    try {
      const updated = await api.setRegistryCredentials(model.id, { username: username.trim(), password });
      // Never kept in the page once the API has them.
      setUsername("");
      setPassword("");
      setSubmitted(false);
      notify(`Saved the registry credentials of ${model.name}.`);
      onChanged(updated);
    } catch (err) {
      setPassword("");
      if (err instanceof ApiError && err.details.some((d) => d.field === "username" || d.field === "password")) {
        const placed: CredentialErrors = {};
        for (const d of err.details) if (d.field === "username" || d.field === "password") placed[d.field] = d.message;
        setErrors(placed);
      } else {
        setFormError(errorText(err));
      }
    } finally {
      setBusy(false);
    }
  };

  const clear = async () => {
    setBusy(true);
    setClearError(null);
    try {
      const updated = await api.clearRegistryCredentials(model.id);
      setClearing(false);
      notify(`Removed the registry credentials of ${model.name}.`);
      onChanged(updated);
    } catch (err) {
      setClearError(err);
    } finally {
      setBusy(false);
    }
  };

  const typed = (patch: { username?: string; password?: string }) => {
    const next = { username, password, ...patch };
    if (patch.username !== undefined) setUsername(patch.username);
    if (patch.password !== undefined) setPassword(patch.password);
    if (submitted) setErrors(validateCredentials(next.username, next.password));
  };

  return (
    <section className="panel" aria-labelledby="registry-title" data-testid="registry-panel">
      <h2 id="registry-title">Private registry</h2>
      <p data-testid="private-registry">
        {stored ? (
          <>
            <span className="badge badge-running">credentials stored</span> The image is pulled with them. They are never shown again.
          </>
        ) : (
          <>
            <span className="badge badge-stopped">none</span> The image is pulled without credentials (a public registry, or this account's
            own ECR).
          </>
        )}
      </p>
      {denied ? (
        <p className="muted small">{denied}</p>
      ) : (
        <>
          <form
            className="form"
            noValidate
            aria-busy={busy}
            aria-label="Registry credentials"
            onSubmit={(e) => {
              e.preventDefault();
              if (!busy) void save();
            }}
          >
            <Field label="Registry user name" error={errors.username}>
              {(p) => (
                <input
                  {...p}
                  value={username}
                  onChange={(e) => typed({ username: e.target.value })}
                  autoComplete="off"
                  spellCheck={false}
                  maxLength={MAX_REGISTRY_USERNAME + 16}
                />
              )}
            </Field>
            <Field
              label="Registry password"
              error={errors.password}
              hint="Or an access token. Kept in AWS Secrets Manager for ECS; the console and the API never show it."
            >
              {(p) => (
                <input
                  {...p}
                  type="password"
                  value={password}
                  onChange={(e) => typed({ password: e.target.value })}
                  autoComplete="new-password"
                  spellCheck={false}
                />
              )}
            </Field>
            {formError && <InlineError>{formError}</InlineError>}
            <div className="form-actions">
              <button type="submit" className="btn btn-primary" disabled={busy}>
                {busy ? "Saving…" : stored ? "Replace credentials" : "Save credentials"}
              </button>
              {stored && (
                <button
                  type="button"
                  className="btn btn-danger-outline"
                  disabled={busy}
                  onClick={() => {
                    setClearError(null);
                    setClearing(true);
                  }}
                >
                  Remove credentials
                </button>
              )}
            </div>
            <p className="muted small">A change takes effect at the model's next start or deployment.</p>
          </form>
          <ConfirmDialog
            open={clearing}
            title={`Remove the registry credentials of ${model.name}?`}
            confirmLabel="Remove credentials"
            busyLabel="Removing…"
            busy={busy}
            onClose={() => setClearing(false)}
            onConfirm={() => void clear()}
          >
            <p>
              The image is then pulled without credentials: a private registry refuses that, so the next start fails until new ones are
              saved.
            </p>
            {clearError !== null && <InlineError>{errorText(clearError)}</InlineError>}
          </ConfirmDialog>
        </>
      )}
    </section>
  );
}
