/**
 * The Deploy dialog: which versions serve, each with an integer traffic weight (a live sum that must
 * be 100 before Deploy is enabled), replicas and a Fargate size, plus an update message. One
 * conditional write (If-Match: the revision shown); the API's errors, per field, stay in the dialog. A stale
 * revision (409 `conflict`) reloads the model; a quota's refusal (409 `quota_exceeded`) is said as a banner
 * naming the quota, and reloads nothing. A version at weight 0 may be a shadow: a copy of a share of the requests,
 * its answers compared with the serving version's by a rule.
 */
import { useState } from "react";
import { ApiError } from "../../api/client";
import type { Model } from "../../api/types";
import { useApi, useNotify } from "../../context";
import { Dialog } from "../../components/Dialog";
import { TableHead } from "../../components/TableHead";
import { InlineError, errorText } from "../../components/States";
import { QuotaBanner } from "../../components/QuotaBanner";
import {
  MAX_REPLICAS,
  deploymentLines,
  initialRows,
  parseWeight,
  promote,
  validateDeployment,
  type DeployRow,
} from "../../lib/deployments";
import { RuleFields } from "./ComparisonView";
import { CPU_CHOICES, memoryChoices } from "../../lib/validation";

export function DeployDialog({
  model,
  promoteVersion,
  onClose,
  onDeployed,
  onStale,
}: {
  model: Model;
  /** Open with this version at 100% and the others out ("promote to 100%"). */
  promoteVersion?: number;
  onClose: () => void;
  onDeployed: (model: Model) => void;
  /** The revision was stale (409): reload the model. */
  onStale: () => void;
}) {
  const api = useApi();
  const notify = useNotify();
  const runnable = model.versions.filter((v) => v.dockerImage || v.artifact);
  const [rows, setRows] = useState<DeployRow[]>(() => {
    const rows = initialRows(runnable, model.deployment, model);
    return promoteVersion === undefined ? rows : promote(rows, promoteVersion);
  });
  const [message, setMessage] = useState(() => (promoteVersion === undefined ? "" : `Promote version ${promoteVersion} to 100%`));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const check = validateDeployment(rows);
  const unrunnable = model.versions.filter((v) => !v.dockerImage && !v.artifact);

  const update = (version: number, patch: Partial<DeployRow>) =>
    setRows((old) => old.map((r) => (r.version === version ? { ...r, ...patch } : r)));

  // The API names fields by their place in the body: versions.<index>.<field>.
  const sent = deploymentLines(rows);
  const apiDetails = error instanceof ApiError ? error.details : [];
  const rowError = (version: number): string | undefined => {
    const index = sent.findIndex((l) => l.version === version);
    const found = apiDetails.filter((d) => index >= 0 && (d.field === `versions.${index}` || d.field.startsWith(`versions.${index}.`)));
    return found.length ? found.map((d) => d.message).join(" ") : undefined;
  };
  const otherDetails = apiDetails.filter((d) => !/^versions\.\d+(\.|$)/.test(d.field));

  const submit = async () => {
    if (!check.ok) return;
    setBusy(true);
    setError(null);
    try {
      const updated = await api.deploy(model.id, sent, message.trim(), model.revision);
      notify(`Deploying ${sent.map((l) => `v${l.version} ${l.weight}%`).join(", ")}…`, "info");
      onDeployed(updated);
      onClose();
    } catch (err) {
      setError(err);
      // Only a stale revision means the model changed: a quota's 409 (quota_exceeded) reloads nothing.
      if (err instanceof ApiError && err.isConflict) onStale();
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      open
      wide
      title={`Deploy ${model.name}`}
      onClose={onClose}
      footer={
        <>
          <span className={check.ok ? "muted small" : "field-error"} data-testid="deploy-problem" role="status">
            {check.problem ?? `Weights add up to 100.`}
          </span>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="deploy-form" className="btn btn-primary" disabled={!check.ok || busy}>
            {busy ? "Deploying…" : "Deploy"}
          </button>
        </>
      }
    >
      <form
        id="deploy-form"
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!busy) void submit();
        }}
      >
        {runnable.length === 0 ? (
          <p className="banner banner-info">No version can run yet: upload a version's file first (Versions tab).</p>
        ) : (
          <div className="table-wrap">
            <table className="table deploy-table">
              <TableHead columns={["Version", "Weight (%)", "Replicas", "vCPU", "Memory"]} actions="Actions" />
              <tbody>
                {rows.map((r) => {
                  const notes = model.versions.find((v) => v.number === r.version)?.notes;
                  const problem = (r.included ? check.errors[r.version] : undefined) ?? rowError(r.version);
                  const memory = memoryChoices(r.containerCpu);
                  return (
                    <tr key={r.version} data-deploy-version={r.version} className={r.included ? "" : "row-off"}>
                      <td>
                        <label className="check">
                          <input
                            type="checkbox"
                            checked={r.included}
                            onChange={(e) => update(r.version, { included: e.target.checked })}
                            aria-label={`Deploy version ${r.version}`}
                          />
                          v{r.version}
                        </label>
                        {notes && <div className="muted small">{notes}</div>}
                        {problem && <div className="field-error">{problem}</div>}
                      </td>
                      <td>
                        <input
                          className="input-narrow"
                          inputMode="numeric"
                          aria-label={`Weight of version ${r.version}`}
                          aria-invalid={!!problem}
                          value={r.weight}
                          disabled={!r.included}
                          onChange={(e) => update(r.version, { weight: e.target.value })}
                        />
                        {r.included && parseWeight(r.weight) === 0 && (
                          <div className="shadow-fields" data-testid={`shadow-fields-${r.version}`}>
                            <label className="check small" title="Gets a copy of some requests; its answers are compared, never returned">
                              <input
                                type="checkbox"
                                checked={r.shadow}
                                onChange={(e) => update(r.version, { shadow: e.target.checked })}
                                aria-label={`Shadow version ${r.version}`}
                              />
                              shadow
                            </label>
                            {r.shadow && (
                              <>
                                <label className="small">
                                  copy of{" "}
                                  <input
                                    className="input-short"
                                    inputMode="numeric"
                                    aria-label={`Shadow percent of version ${r.version}`}
                                    value={r.shadowPercent}
                                    onChange={(e) => update(r.version, { shadowPercent: e.target.value })}
                                  />{" "}
                                  % of requests
                                </label>
                                <RuleFields
                                  value={r.shadowRule}
                                  onChange={(shadowRule) => update(r.version, { shadowRule })}
                                  idPrefix={`shadow-rule-${r.version}`}
                                  legend="compared"
                                />
                                {model.captureBodyBytes === 0 && (
                                  <p className="field-error">
                                    Shadow traffic needs recorded bodies: set “Bodies recorded” above 0 in the model's form.
                                  </p>
                                )}
                              </>
                            )}
                          </div>
                        )}
                      </td>
                      <td>
                        <input
                          className="input-narrow"
                          type="number"
                          min={1}
                          max={MAX_REPLICAS}
                          step={1}
                          aria-label={r.autoscale ? `Minimum replicas of version ${r.version}` : `Replicas of version ${r.version}`}
                          value={String(r.replicas)}
                          disabled={!r.included}
                          onChange={(e) => update(r.version, { replicas: Number(e.target.value) })}
                        />
                        <label className="check small">
                          <input
                            type="checkbox"
                            checked={r.autoscale}
                            disabled={!r.included}
                            onChange={(e) => update(r.version, { autoscale: e.target.checked })}
                            aria-label={`Autoscale version ${r.version}`}
                          />
                          autoscale
                        </label>
                        {r.autoscale && (
                          <div className="autoscaling" data-testid={`autoscaling-${r.version}`}>
                            <label className="small">
                              up to{" "}
                              <input
                                className="input-narrow"
                                type="number"
                                min={1}
                                max={MAX_REPLICAS}
                                step={1}
                                aria-label={`Maximum replicas of version ${r.version}`}
                                value={String(r.maxReplicas)}
                                onChange={(e) => update(r.version, { maxReplicas: Number(e.target.value) })}
                              />
                            </label>
                            <label className="small">
                              CPU target %{" "}
                              <input
                                className="input-narrow"
                                inputMode="decimal"
                                aria-label={`CPU target of version ${r.version}`}
                                placeholder="none"
                                value={r.targetCpuPercent}
                                onChange={(e) => update(r.version, { targetCpuPercent: e.target.value })}
                              />
                            </label>
                            <label className="small">
                              requests/s per replica{" "}
                              <input
                                className="input-narrow"
                                inputMode="decimal"
                                aria-label={`Request target of version ${r.version}`}
                                placeholder="none"
                                value={r.targetRequestsPerReplica}
                                onChange={(e) => update(r.version, { targetRequestsPerReplica: e.target.value })}
                              />
                            </label>
                          </div>
                        )}
                      </td>
                      <td>
                        <select
                          aria-label={`vCPU of version ${r.version}`}
                          value={String(r.containerCpu)}
                          disabled={!r.included}
                          onChange={(e) => {
                            const cpu = Number(e.target.value);
                            const choices = memoryChoices(cpu);
                            update(r.version, {
                              containerCpu: cpu,
                              containerMemory: choices.includes(r.containerMemory) ? r.containerMemory : (choices[0] ?? 1),
                            });
                          }}
                        >
                          {CPU_CHOICES.map((c) => (
                            <option key={c} value={String(c)}>
                              {c} vCPU
                            </option>
                          ))}
                        </select>
                      </td>
                      <td>
                        <select
                          aria-label={`Memory of version ${r.version}`}
                          value={String(r.containerMemory)}
                          disabled={!r.included}
                          onChange={(e) => update(r.version, { containerMemory: Number(e.target.value) })}
                        >
                          {!memory.includes(r.containerMemory) && (
                            <option value={String(r.containerMemory)}>{r.containerMemory} GB (not valid)</option>
                          )}
                          {memory.map((m) => (
                            <option key={m} value={String(m)}>
                              {m} GB
                            </option>
                          ))}
                        </select>
                        <label className="check small">
                          <input
                            type="checkbox"
                            checked={r.spot}
                            disabled={!r.included}
                            onChange={(e) => update(r.version, { spot: e.target.checked })}
                            aria-label={`Run version ${r.version} on Fargate Spot`}
                          />
                          on Spot (about 70% cheaper; AWS may take tasks back)
                        </label>
                      </td>
                      <td>
                        <button type="button" className="btn btn-small" onClick={() => setRows(promote(rows, r.version))}>
                          <span aria-hidden="true">Promote to 100%</span>
                          <span className="visually-hidden">Promote version {r.version} to 100%</span>
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row">Sum</th>
                  <td colSpan={5}>
                    <strong data-testid="weight-sum" className={check.sum === 100 ? "" : "text-error"}>
                      {check.sum}%
                    </strong>
                    <span className="muted small"> of 100%</span>
                  </td>
                </tr>
              </tfoot>
            </table>
          </div>
        )}
        {unrunnable.length > 0 && (
          <p className="muted small">Not offered until their file is uploaded: {unrunnable.map((v) => `v${v.number}`).join(", ")}.</p>
        )}
        <div className="field">
          <label htmlFor="deploy-message" className="label">
            Update message
          </label>
          <textarea
            id="deploy-message"
            rows={2}
            value={message}
            placeholder="Why this change, for the history"
            onChange={(e) => setMessage(e.target.value)}
          />
        </div>
        <p className="muted small">
          New versions get traffic only once all their replicas are healthy; until then the current deployment keeps serving.
        </p>
        {error instanceof ApiError && error.isQuotaExceeded ? (
          <QuotaBanner error={error} project={model.project} />
        ) : (
          error !== null && (
            <InlineError>
              {error instanceof ApiError && error.isConflict
                ? `${error.message} The model was changed meanwhile: it has been reloaded; check the versions and deploy again.`
                : errorText(error)}
              {otherDetails.length > 0 && (
                <ul>
                  {otherDetails.map((d, i) => (
                    <li key={i}>
                      {d.field ? <code>{d.field}</code> : null} {d.message}
                    </li>
                  ))}
                </ul>
              )}
            </InlineError>
          )
        )}
      </form>
    </Dialog>
  );
}
