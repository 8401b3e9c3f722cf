/**
 * A project's quota on its page: a bar per bounded measure ("1.5 of 4 vCPU"), "no limit" for the others. The
 * stage's admins change it (PUT /projects/{p}/quota, the four bounds, empty for none), each bound checked as it is
 * typed and the API's 422 details shown on their field; everyone else, a project's own admins too, reads it (the
 * API answers 403 to them: a project's admins could otherwise lift their own quota).
 */
import { useState } from "react";
import { ApiError } from "../api/client";
import type { Project } from "../api/types";
import { useApi, useNotify } from "../context";
import { useUser } from "../auth/user";
import { stageDeniedReason } from "../auth/roles";
import { InlineError, errorText } from "../components/States";
import {
  QUOTA_BOUNDS,
  quotaErrorsFromApi,
  quotaForm,
  quotaMeasures,
  validateQuota,
  type QuotaErrors,
  type QuotaForm,
  type QuotaKey,
} from "../lib/quotas";
import { Field } from "./model-form/fields";

export function QuotaPanel({ project, onSaved }: { project: Project; onSaved: (project: Project) => void }) {
  const { roles } = useUser();
  const [editing, setEditing] = useState(false);
  const denied = stageDeniedReason(roles, "setQuota", project.name);
  const measures = project.usage ? quotaMeasures(project.quota, project.usage) : null;

  return (
    <section className="panel" aria-labelledby="quota-title" data-testid="quota-panel">
      <div className="panel-header">
        <h2 id="quota-title">Quota</h2>
        {!denied && !editing && (
          <button type="button" className="btn btn-small" onClick={() => setEditing(true)}>
            Edit quota
          </button>
        )}
      </div>
      <p className="muted small">
        The most this project's models may hold at once; a start, deployment, new model or move past a bound is refused. An autoscaled
        version counts its maximum.
      </p>
      {measures ? (
        <ul className="quota-bars">
          {measures.map((m) => (
            <li key={m.key} data-testid={`quota-${m.key}`} data-level={m.level}>
              <div className="quota-line">
                <span className="quota-label">{m.label}</span>
                <span className="quota-text">{m.text}</span>
              </div>
              {m.share !== null && m.limit !== null && (
                <div
                  className="quota-bar"
                  role="meter"
                  aria-label={`${m.label} used`}
                  aria-valuemin={0}
                  aria-valuemax={m.limit}
                  aria-valuenow={Math.min(m.used, m.limit)}
                  aria-valuetext={m.text}
                >
                  <span className={`quota-fill quota-${m.level}`} style={{ width: `${Math.round(m.share * 100)}%` }} />
                </div>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">What the project uses is not known.</p>
      )}
      {denied && (
        <p className="muted small" data-testid="quota-read-only">
          {denied}
        </p>
      )}
      {editing && (
        <QuotaEditor
          project={project}
          onCancel={() => setEditing(false)}
          onSaved={(saved) => {
            setEditing(false);
            onSaved(saved);
          }}
        />
      )}
    </section>
  );
}

const LABELS: Record<QuotaKey, string> = {
  maxVcpu: "Most vCPU",
  maxMemoryGb: "Most memory (GB)",
  maxReplicas: "Most replicas",
  maxModels: "Most models",
};

const HINTS: Record<QuotaKey, string> = {
  maxVcpu: "vCPU of every replica that runs, together.",
  maxMemoryGb: "GB of memory of every replica that runs, together.",
  maxReplicas: "Replicas running at once, over all models.",
  maxModels: "Models in the project, running or not.",
};

function QuotaEditor({ project, onCancel, onSaved }: { project: Project; onCancel: () => void; onSaved: (project: Project) => void }) {
  const api = useApi();
  const notify = useNotify();
  const [form, setForm] = useState<QuotaForm>(() => quotaForm(project.quota));
  const [apiErrors, setApiErrors] = useState<QuotaErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Checked as typed: a bound the API would refuse is said at once, and Save waits for it.
  const checked = validateQuota(form);
  const errors: QuotaErrors = { ...apiErrors, ...checked.errors };

  const submit = async () => {
    if (!checked.body) return;
    setBusy(true);
    setFormError(null);
    try {
      const saved = await api.setQuota(project.name, checked.body);
      notify(`Saved the quota of ${project.name}.`);
      onSaved(saved);
    } catch (err) {
      if (err instanceof ApiError && err.details.length) {
        const placed = quotaErrorsFromApi(err.details);
        setApiErrors(placed.errors);
        setFormError([err.message, ...placed.unplaced].join(" "));
      } else {
        setFormError(errorText(err));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="form quota-form"
      noValidate
      aria-busy={busy}
      aria-label={`Quota of ${project.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        if (!busy) void submit();
      }}
    >
      <div className="grid-2">
        {QUOTA_BOUNDS.map((b) => (
          <Field key={b.key} label={LABELS[b.key]} error={errors[b.key]} hint={`${HINTS[b.key]} Empty: no limit.`}>
            {(p) => (
              <input
                {...p}
                inputMode={b.integer ? "numeric" : "decimal"}
                value={form[b.key]}
                placeholder="no limit"
                autoComplete="off"
                onChange={(e) => {
                  const value = e.target.value;
                  setForm((old) => ({ ...old, [b.key]: value }));
                  setApiErrors((old) => ({ ...old, [b.key]: undefined }));
                }}
              />
            )}
          </Field>
        ))}
      </div>
      {formError && <InlineError>{formError}</InlineError>}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy || !checked.body}>
          {busy ? "Saving…" : "Save quota"}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
