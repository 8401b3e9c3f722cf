/**
 * Replays: send the requests the model answered (a time range, a status filter, up to a limit) to a candidate
 * version and compare its answers with the ones recorded. Editors start one (the form); everyone sees the list
 * with each replay's status and progress (polled while one runs) and opens one's diff view: counts, match rate,
 * both versions' latency and the largest differences side by side. While the deployment has a shadow version, its
 * live comparisons come first (ShadowResults).
 */
import { useState } from "react";
import { isTransient } from "../../api/client";
import type { Model } from "../../api/types";
import type { Replay } from "../../api/safety-types";
import { useApi, useNotify } from "../../context";
import { useRoleIn } from "../../auth/user";
import { deniedReason } from "../../auth/roles";
import { useAsync, useInterval } from "../../hooks/useAsync";
import { usePagedList } from "../../hooks/usePagedList";
import { DeniedButton } from "../../components/Guarded";
import { LoadMore } from "../../components/LoadMore";
import { Empty, ErrorState, Loading, RefreshFailed, errorText } from "../../components/States";
import { TableHead } from "../../components/TableHead";
import { Time } from "../../components/Time";
import { describeRule, formatRate } from "../../lib/comparison";
import {
  defaultReplayForm,
  replayActive,
  replayErrorsFromApi,
  replayFraction,
  validateReplayForm,
  type ReplayForm,
} from "../../lib/replays";
import { Field } from "../model-form/fields";
import { ComparisonSummary, LargestDifferences, RuleFields } from "./ComparisonView";
import { ShadowResults, shadowVersions } from "./ShadowResults";
import { CandidateField, StartForm, TextField, likelyCandidate, runnableVersions, useStartForm } from "./StartForm";

const PAGE = 20;
const POLL_MS = 2000;

export function ReplaysTab({ model }: { model: Model }) {
  const api = useApi();
  const denied = deniedReason(useRoleIn(model.project), "lifecycle", model.project);
  const replays = usePagedList((nextToken, signal) => api.listReplays(model.id, { limit: PAGE, nextToken }, signal), [api, model.id]);
  const [selected, setSelected] = useState<string | null>(null);
  const [formOpen, setFormOpen] = useState(false);
  const running = (replays.items ?? []).some(replayActive);
  useInterval(replays.reload, POLL_MS, running && (replays.error === undefined || isTransient(replays.error)));

  return (
    <div className="tab-content" data-testid="replays-panel">
      <div className="toolbar">
        <p className="muted small">
          A replay sends recorded requests to a candidate version (started at weight 0 if it does not run) and compares its answers with
          those the model gave. Nobody gets the candidate's answers.
        </p>
        <div className="toolbar-end">
          {denied ? (
            <DeniedButton className="btn btn-primary" reason={denied}>
              New replay
            </DeniedButton>
          ) : (
            <button type="button" className="btn btn-primary" onClick={() => setFormOpen((o) => !o)} aria-expanded={formOpen}>
              New replay
            </button>
          )}
        </div>
      </div>
      {shadowVersions(model).length > 0 && <ShadowResults model={model} />}
      {formOpen && !denied && (
        <ReplayStartForm
          model={model}
          onClose={() => setFormOpen(false)}
          onStarted={(r) => {
            setFormOpen(false);
            setSelected(r.replayId);
            replays.reload();
          }}
        />
      )}
      {selected && <ReplayDiff model={model} replayId={selected} onClose={() => setSelected(null)} onChanged={replays.reload} />}
      {replays.error && !replays.items ? (
        <ErrorState error={replays.error} title="Could not load the replays" onRetry={replays.reload} />
      ) : !replays.items ? (
        <Loading label="Loading the replays…" />
      ) : replays.items.length === 0 ? (
        <Empty title="No replays yet">
          <p className="muted small">Start one to see how a version would have answered the requests the model got.</p>
        </Empty>
      ) : (
        <>
          <RefreshFailed error={replays.error} />
          <div className="table-wrap">
            <table className="table table-cards" data-testid="replays-table">
              <TableHead columns={["Started", "Candidate", "Status", "Progress", "Match rate", "Rule", "By"]} actions="Actions" />
              <tbody>
                {replays.items.map((r) => (
                  <tr key={r.replayId} data-replay-id={r.replayId} className={r.replayId === selected ? "row-selected" : ""}>
                    <td data-label="Started">
                      <Time iso={r.createdAt} />
                    </td>
                    <td data-label="Candidate">
                      v{r.candidateVersion}
                      {r.baselineVersions.length > 0 && (
                        <span className="muted small"> vs {r.baselineVersions.map((v) => `v${v}`).join(", ")}</span>
                      )}
                    </td>
                    <td data-label="Status" className="cell-wrap">
                      <ReplayStatusBadge replay={r} />
                    </td>
                    <td data-label="Progress">
                      <ReplayProgress replay={r} />
                    </td>
                    <td data-label="Match rate" data-testid={`replay-match-${r.replayId}`}>
                      {formatRate(r.matchRate)}
                    </td>
                    <td data-label="Rule" className="small">
                      {describeRule(r.rule)}
                    </td>
                    <td data-label="By">{r.createdBy}</td>
                    <td className="cell-actions">
                      <button
                        type="button"
                        className="btn btn-small"
                        aria-label={`Show the differences of the replay of ${r.createdAt}`}
                        onClick={() => setSelected(r.replayId)}
                      >
                        Differences
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <LoadMore list={replays} label="Load older replays" />
        </>
      )}
    </div>
  );
}

const STATUS_CLASS: Record<Replay["status"], string> = {
  PENDING: "badge-pending",
  RUNNING: "badge-pending",
  SUCCEEDED: "badge-running",
  FAILED: "badge-failed",
  CANCELLED: "badge-stopped",
};

function ReplayStatusBadge({ replay }: { replay: Replay }) {
  return (
    <>
      <span className={`badge ${STATUS_CLASS[replay.status]}`} data-replay-status={replay.status} title={replay.statusReason ?? undefined}>
        {replayActive(replay) && <span className="spinner spinner-small" aria-hidden="true" />}
        {replay.status.toLowerCase()}
      </span>
      {replay.statusReason && <div className="small muted">{replay.statusReason}</div>}
    </>
  );
}

function ReplayProgress({ replay }: { replay: Replay }) {
  const fraction = replayFraction(replay);
  return (
    <span className="progress">
      <progress max={1} value={fraction} aria-label={`${replay.progress.done} of ${replay.progress.total} requests sent`} />
      <span className="small">
        {replay.progress.done} / {replay.progress.total}
      </span>
    </span>
  );
}

function ReplayStartForm({ model, onClose, onStarted }: { model: Model; onClose: () => void; onStarted: (replay: Replay) => void }) {
  const api = useApi();
  const notify = useNotify();
  const versions = runnableVersions(model);
  const state = useStartForm({
    initial: () => defaultReplayForm(likelyCandidate(model)),
    validate: validateReplayForm,
    errorsFromApi: replayErrorsFromApi,
    errorKey: (field) => (field === "start" || field === "end" ? "range" : field),
    send: (body) => api.startReplay(model.id, body),
    onSent: (replay) => {
      notify(`Replaying to v${replay.candidateVersion}…`, "info");
      onStarted(replay);
    },
  });
  const { form, set, shown } = state;

  return (
    <StartForm
      state={state}
      title="New replay"
      className="replay-form"
      testId="replay-form"
      submitLabel="Start replay"
      conflictNote=" (a replay needs the model running: it compares with what serves)"
      onClose={onClose}
    >
      {model.status !== "RUNNING" && (
        <p className="banner banner-warning">
          The model is {model.status.toLowerCase()}: a replay compares with what serves, so start it first.
        </p>
      )}
      <div className="grid-3">
        <CandidateField state={state} versions={versions} />
        <Field label="Requests of" error={shown.range}>
          {(p) => (
            <select {...p} value={form.range} onChange={(e) => set({ range: e.target.value as ReplayForm["range"] })}>
              <option value="24h">the last 24 hours</option>
              <option value="yesterday">yesterday</option>
              <option value="custom">a time range…</option>
            </select>
          )}
        </Field>
        <TextField
          state={state}
          name="status"
          label="With status"
          placeholder="every status"
          hint="2xx, 4xx, a code such as 200, or empty for all"
        />
      </div>
      {form.range === "custom" && (
        <div className="grid-2">
          <TextField state={state} name="start" label="From" type="datetime-local" />
          <TextField state={state} name="end" label="To" type="datetime-local" />
        </div>
      )}
      <div className="grid-3">
        <TextField state={state} name="limit" label="At most (requests)" inputMode="numeric" />
        <TextField state={state} name="rate" label="Rate (requests per second)" inputMode="numeric" />
      </div>
      <RuleFields value={form.rule} onChange={(rule) => set({ rule })} idPrefix="replay-rule" error={shown.rule} />
    </StartForm>
  );
}

/** One replay's diff view, polled while it runs. */
function ReplayDiff({
  model,
  replayId,
  onClose,
  onChanged,
}: {
  model: Model;
  replayId: string;
  onClose: () => void;
  onChanged: () => void;
}) {
  const api = useApi();
  const notify = useNotify();
  const denied = deniedReason(useRoleIn(model.project), "lifecycle", model.project);
  const replay = useAsync((signal) => api.getReplay(model.id, replayId, signal), [api, model.id, replayId]);
  const r = replay.data;
  const active = !!r && replayActive(r);
  useInterval(replay.reload, POLL_MS, active && (replay.error === undefined || isTransient(replay.error)));
  const [cancelling, setCancelling] = useState(false);

  const cancel = async () => {
    setCancelling(true);
    try {
      replay.setData(await api.cancelReplay(model.id, replayId));
      onChanged();
    } catch (err) {
      notify(`Could not cancel the replay: ${errorText(err)}`, "error");
    } finally {
      setCancelling(false);
    }
  };

  return (
    <section className="panel replay-diff" aria-labelledby="replay-diff-title" data-testid="replay-diff">
      <div className="panel-header">
        <h3 id="replay-diff-title" className="section-title">
          {r ? `Replay to v${r.candidateVersion}` : "Replay"}
        </h3>
        <div className="actions">
          {active &&
            (denied ? (
              <DeniedButton className="btn btn-small" reason={denied}>
                Cancel replay
              </DeniedButton>
            ) : (
              <button type="button" className="btn btn-small" onClick={() => void cancel()} disabled={cancelling}>
                Cancel replay
              </button>
            ))}
          <button type="button" className="btn btn-small" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
      {replay.error && !r ? (
        <ErrorState error={replay.error} title="Could not load the replay" onRetry={replay.reload} />
      ) : !r ? (
        <Loading label="Loading the replay…" />
      ) : (
        <>
          <RefreshFailed error={replay.error} />
          <p className="small">
            <ReplayStatusBadge replay={r} /> Requests of <Time iso={r.source.start ?? r.createdAt} /> to{" "}
            <Time iso={r.source.end ?? r.createdAt} />, {r.source.status ? `status ${r.source.status}` : "every status"}, at most{" "}
            {r.source.limit}; compared {describeRule(r.rule)}, at {r.ratePerSecond}/s. Serving:{" "}
            {r.baselineVersions.map((v) => `v${v}`).join(", ") || "—"}.
            {r.startedCandidate && " The candidate was started at weight 0 for it."}
          </p>
          <ReplayProgress replay={r} />
          <ComparisonSummary of={r} candidateLabel={`v${r.candidateVersion}`} testId="replay-summary" />
          <h4 className="small">Largest differences</h4>
          <LargestDifferences items={r.largest} candidateLabel={`Candidate v${r.candidateVersion}`} />
        </>
      )}
    </section>
  );
}
