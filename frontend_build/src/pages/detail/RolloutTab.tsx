/**
 * The canary rollout of a model: editors start a plan for a version (its steps, bake time and guardrails); the
 * current or last rollout is drawn as its steps (done, current with its bake time elapsed, failed, to come), with
 * Pause / Resume / Promote now / Abort for editors, and the table of its decisions with the numbers each was
 * taken on. Read from GET /rollout only when the model has one (the model says so: no 404 to ask), again whenever
 * the model's copy moves, and polled while it is running or paused (a failed poll is said and retried).
 */
import { useEffect, useState } from "react";
import { ApiError, isTransient } from "../../api/client";
import type { Model } from "../../api/types";
import { modelRollout, type Rollout, type RolloutAction, type RolloutDecision } from "../../api/safety-types";
import { useApi, useNotify } from "../../context";
import { useRoleIn } from "../../auth/user";
import { deniedReason } from "../../auth/roles";
import { useAsync, useInterval } from "../../hooks/useAsync";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { DeniedButton } from "../../components/Guarded";
import { Empty, ErrorState, InlineError, Loading, RefreshFailed, errorText } from "../../components/States";
import { TableHead } from "../../components/TableHead";
import { Time } from "../../components/Time";
import { formatMs, formatRate } from "../../lib/comparison";
import {
  allowedActions,
  defaultRolloutForm,
  formatSeconds,
  isActive,
  rolloutProgress,
  rolloutErrorsFromApi,
  rolloutStamp,
  validateRolloutForm,
  type RolloutForm,
} from "../../lib/rollouts";
import { CandidateField, StartForm, TextField, likelyCandidate, runnableVersions, servingVersions, useStartForm } from "./StartForm";

const POLL_MS = 2000;

const ACTION_LABELS: Record<RolloutAction, string> = { pause: "Pause", resume: "Resume", promote: "Promote now", abort: "Abort" };

const STATUS_CLASS: Record<Rollout["status"], string> = {
  RUNNING: "badge-pending",
  PAUSED: "badge-stopped",
  SUCCEEDED: "badge-running",
  ROLLED_BACK: "badge-failed",
  ABORTED: "badge-stopped",
};

export function RolloutStatusBadge({ rollout }: { rollout: Rollout }) {
  return (
    <span className={`badge ${STATUS_CLASS[rollout.status]}`} data-rollout-status={rollout.status}>
      {rollout.status === "RUNNING" && <span className="spinner spinner-small" aria-hidden="true" />}
      {rollout.status.replace("_", " ").toLowerCase()}
    </span>
  );
}

export function RolloutTab({ model, onChanged }: { model: Model; onChanged: () => void }) {
  const api = useApi();
  const notify = useNotify();
  const denied = deniedReason(useRoleIn(model.project), "lifecycle", model.project);
  // The model carries its rollout too (polled by the page while one is active): when its copy moves, read ours again.
  const known = modelRollout(model);
  const modelStamp = rolloutStamp(known);
  const rollout = useAsync<Rollout | null>(
    (signal) =>
      known === null
        ? Promise.resolve(null)
        : api.getRollout(model.id, signal).catch((err: unknown) => {
            if (err instanceof ApiError && err.isNotFound) return null;
            throw err;
          }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [api, model.id, modelStamp],
  );
  const r = rollout.data;
  const active = isActive(r);
  useInterval(rollout.reload, POLL_MS, active && (rollout.error === undefined || isTransient(rollout.error)));
  // Reload the model when the rollout's state or step changes (its deployment changed with it).
  const stamp = rolloutStamp(r ?? null);
  useEffect(() => {
    if (stamp && stamp !== modelStamp) onChanged();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stamp]);
  const [formOpen, setFormOpen] = useState(false);
  const [busy, setBusy] = useState<RolloutAction | null>(null);
  const [confirm, setConfirm] = useState<RolloutAction | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);

  if (rollout.error && r === undefined)
    return <ErrorState error={rollout.error} title="Could not load the rollout" onRetry={rollout.reload} />;
  if (r === undefined) return <Loading label="Loading the rollout…" />;

  const act = async (action: RolloutAction) => {
    setBusy(action);
    setActionError(null);
    try {
      rollout.setData(await api.rolloutAction(model.id, action));
      notify(`${ACTION_LABELS[action]}: the rollout of v${r?.candidateVersion}.`, "info");
      onChanged();
    } catch (err) {
      setActionError(err);
      if (err instanceof ApiError && err.isConflict) rollout.reload();
    } finally {
      setBusy(null);
      setConfirm(null);
    }
  };

  return (
    <div className="tab-content" data-testid="rollout-panel">
      <div className="toolbar">
        <p className="muted small">
          A canary rollout moves traffic to a version step by step; after each step's bake time it compares the candidate with the serving
          version and goes on, or rolls back by itself when a guardrail is crossed.
        </p>
        <div className="toolbar-end">
          {denied || active ? (
            <DeniedButton className="btn btn-primary" reason={denied ?? "A rollout is under way: finish or abort it first."}>
              New rollout
            </DeniedButton>
          ) : (
            <button type="button" className="btn btn-primary" onClick={() => setFormOpen((o) => !o)} aria-expanded={formOpen}>
              New rollout
            </button>
          )}
        </div>
      </div>
      {formOpen && !denied && !active && (
        <RolloutStartForm
          model={model}
          onClose={() => setFormOpen(false)}
          onStarted={(started) => {
            setFormOpen(false);
            rollout.setData(started);
            onChanged();
          }}
        />
      )}
      <RefreshFailed error={rollout.error} />
      {r === null ? (
        <Empty title="No rollout yet">
          <p className="muted small">Start one to move traffic to a new version gradually, with automatic rollback.</p>
        </Empty>
      ) : (
        <section className="panel" aria-labelledby="rollout-title" data-testid="rollout-current">
          <div className="panel-header">
            <h3 id="rollout-title" className="section-title">
              v{r.baselineVersion} → v{r.candidateVersion} <RolloutStatusBadge rollout={r} />
            </h3>
            <div className="actions" data-testid="rollout-actions">
              {allowedActions(r).map((action) =>
                denied ? (
                  <DeniedButton key={action} className="btn btn-small" reason={denied}>
                    {ACTION_LABELS[action]}
                  </DeniedButton>
                ) : (
                  <button
                    key={action}
                    type="button"
                    className={action === "abort" ? "btn btn-small btn-danger-outline" : "btn btn-small"}
                    disabled={busy !== null}
                    onClick={() => (action === "promote" || action === "abort" ? setConfirm(action) : void act(action))}
                  >
                    {busy === action ? "…" : ACTION_LABELS[action]}
                  </button>
                ),
              )}
            </div>
          </div>
          <p className="small">
            Started <Time iso={r.startedAt} /> by {r.startedBy}
            {r.endedAt && (
              <>
                , ended <Time iso={r.endedAt} />
              </>
            )}
            . Bake {formatSeconds(r.bakeSeconds)} per step; guardrails: 5xx at most {formatRate(r.guardrails.max5xxRate)}, 4xx at most{" "}
            {Number((r.guardrails.max4xxIncrease * 100).toFixed(2))} points above the serving version's, p99 at most{" "}
            {r.guardrails.maxP99Ratio}× the serving version's
            {r.guardrails.minMatchRate !== null && `, match rate at least ${formatRate(r.guardrails.minMatchRate)}`}, judged on{" "}
            {r.guardrails.minRequests} requests or more.
          </p>
          {r.reason && (
            <p className={r.status === "ROLLED_BACK" ? "banner banner-error" : "banner banner-info"} data-testid="rollout-reason">
              {r.reason}
            </p>
          )}
          <RolloutStepper rollout={r} />
          {actionError !== null && <InlineError>{errorText(actionError)}</InlineError>}
          <h4 className="small">Decisions</h4>
          <DecisionsTable decisions={r.decisions} steps={r.steps} />
        </section>
      )}
      <ConfirmDialog
        open={confirm !== null}
        title={confirm === "promote" ? "Promote now?" : "Abort the rollout?"}
        confirmLabel={confirm === "promote" ? "Promote now" : "Abort rollout"}
        busyLabel={confirm === "promote" ? "Promoting…" : "Aborting…"}
        busy={busy !== null}
        onClose={() => setConfirm(null)}
        onConfirm={() => confirm && void act(confirm)}
      >
        {r && confirm === "promote" && (
          <p>
            v{r.candidateVersion} gets all the traffic now, skipping the steps and guardrails left; v{r.baselineVersion} leaves the
            deployment.
          </p>
        )}
        {r && confirm === "abort" && (
          <p>
            The traffic goes back to v{r.baselineVersion}, as before the rollout; v{r.candidateVersion} leaves the deployment.
          </p>
        )}
      </ConfirmDialog>
    </div>
  );
}

/** The steps as a bar: each step's share, the current one with its bake time elapsed. */
export function RolloutStepper({ rollout }: { rollout: Rollout }) {
  const [now, setNow] = useState(() => Date.now());
  useInterval(() => setNow(Date.now()), 1000, rollout.status === "RUNNING");
  const p = rolloutProgress(rollout, now);
  return (
    <div className="rollout-progress" data-testid="rollout-progress">
      <ol className="rollout-steps" aria-label="Steps">
        {p.steps.map((s, i) => (
          <li
            key={i}
            className={`rollout-step step-${s.state}`}
            data-step-state={s.state}
            aria-current={s.state === "current" ? "step" : undefined}
          >
            <span className="step-weight">{s.weight}%</span>
            <span className="step-state small">
              {s.state === "done"
                ? "done"
                : s.state === "current"
                  ? "now"
                  : s.state === "failed"
                    ? "rolled back"
                    : s.state === "stopped"
                      ? "aborted"
                      : ""}
            </span>
          </li>
        ))}
      </ol>
      {(rollout.status === "RUNNING" || rollout.status === "PAUSED") && (
        <div className="progress" data-testid="bake">
          {p.bakeElapsed === null ? (
            <span className="small">
              <span className="spinner spinner-small" aria-hidden="true" /> Switching to {p.weight}%: the bake starts once the candidate's
              replicas are healthy.
            </span>
          ) : (
            <>
              <progress max={1} value={p.bakeFraction ?? 0} aria-label="Bake time elapsed" />
              <span className="small">
                {p.weight}% baked {formatSeconds(p.bakeElapsed)} of {formatSeconds(rollout.bakeSeconds)}
                {rollout.status === "PAUSED" ? " (paused)" : ""}
              </span>
            </>
          )}
        </div>
      )}
    </div>
  );
}

const VERDICT_CLASS: Partial<Record<RolloutDecision["verdict"], string>> = {
  rollback: "http-5xx",
  abort: "http-4xx",
  succeed: "http-2xx",
  promote: "http-2xx",
  advance: "http-2xx",
};

function pair(candidate: string, baseline: string) {
  return (
    <>
      {candidate} <span className="muted">vs {baseline}</span>
    </>
  );
}

function DecisionsTable({ decisions, steps }: { decisions: readonly RolloutDecision[]; steps: readonly number[] }) {
  if (decisions.length === 0) return <p className="muted small">No decision yet: the first comes at the end of the first bake.</p>;
  return (
    <div className="table-wrap">
      <table className="table table-cards" data-testid="decisions-table">
        <TableHead columns={["Time", "Step", "Verdict", "Requests", "5xx", "4xx", "p99", "Match", "Why"]} />
        <tbody>
          {decisions.toReversed().map((d, i) => {
            const n = d.numbers;
            return (
              <tr key={`${d.at}-${i}`} data-verdict={d.verdict}>
                <td data-label="Time">
                  <Time iso={d.at} />
                </td>
                <td data-label="Step">
                  {d.step + 1} of {steps.length} ({d.weight}%)
                </td>
                <td data-label="Verdict">
                  <span className={`tag ${VERDICT_CLASS[d.verdict] ?? ""}`}>{d.verdict}</span>
                  <div className="muted small">{d.actor}</div>
                </td>
                {n === null ? (
                  <td colSpan={5} className="muted small" data-label="Numbers">
                    No numbers: {d.actor.startsWith("system:") ? "nothing was measured" : "a person's action"}.
                  </td>
                ) : (
                  <>
                    <td data-label="Requests">{pair(String(n.candidateRequests ?? "—"), String(n.baselineRequests ?? "—"))}</td>
                    <td data-label="5xx">{pair(formatRate(n.candidate5xxRate), formatRate(n.baseline5xxRate))}</td>
                    <td data-label="4xx">{pair(formatRate(n.candidate4xxRate), formatRate(n.baseline4xxRate))}</td>
                    <td data-label="p99">
                      {pair(formatMs(n.candidateP99), formatMs(n.baselineP99))}
                      {n.p99Ratio !== null && <div className="muted small">{n.p99Ratio.toFixed(2)}×</div>}
                    </td>
                    <td data-label="Match">{formatRate(n.matchRate)}</td>
                  </>
                )}
                <td data-label="Why" className="cell-wrap small">
                  {d.reason}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function RolloutStartForm({ model, onClose, onStarted }: { model: Model; onClose: () => void; onStarted: (rollout: Rollout) => void }) {
  const api = useApi();
  const notify = useNotify();
  const serving = servingVersions(model);
  const versions = runnableVersions(model).filter((v) => !serving.has(v));
  const state = useStartForm({
    initial: () => {
      const likely = likelyCandidate(model);
      return defaultRolloutForm(likely !== null && !serving.has(likely) ? likely : null);
    },
    validate: validateRolloutForm,
    errorsFromApi: rolloutErrorsFromApi,
    send: (body) => api.startRollout(model.id, body),
    onSent: (started) => {
      notify(`Rolling out v${started.candidateVersion}: ${started.steps[0]}% first.`, "info");
      onStarted(started);
    },
  });
  const field = (
    name: Exclude<keyof RolloutForm, "message" | "candidateVersion">,
    label: string,
    hint?: string,
    inputMode: "numeric" | "decimal" = "decimal",
  ) => <TextField state={state} name={name} label={label} hint={hint} inputMode={inputMode} />;

  return (
    <StartForm
      state={state}
      title="New rollout"
      className="rollout-form"
      testId="rollout-form"
      submitLabel="Start rollout"
      canSubmit={versions.length > 0}
      onClose={onClose}
    >
      {versions.length === 0 && (
        <p className="banner banner-info">Every runnable version already serves: create and upload a new version first (Versions tab).</p>
      )}
      <div className="grid-3">
        <CandidateField state={state} versions={versions} />
        {field("steps", "Steps (% of traffic)", "rising, ending at 100")}
        {field("bakeSeconds", "Bake time per step (seconds)", "watched before each next step", "numeric")}
      </div>
      <fieldset className="fieldset">
        <legend className="label">Guardrails: roll back when the candidate…</legend>
        <div className="grid-3">
          {field("max5xxPercent", "5xx rate above (%)")}
          {field("max4xxIncreasePoints", "4xx rate rises by more than (points)", "over the serving version's")}
          {field("maxP99Ratio", "p99 above (× the serving version's)")}
          {field("minMatchPercent", "Match rate below (%)", "of its last replay or shadow; empty for none")}
          {field("minRequests", "Judge on at least (requests)", "fewer: the bake goes on", "numeric")}
        </div>
      </fieldset>
      <TextField state={state} name="message" label="Message" placeholder="Why, for the history" />
    </StartForm>
  );
}
