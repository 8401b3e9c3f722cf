/**
 * The deployment history, newest first: when, who, what (deploy, start, stop, rollback), the update
 * message, the full spec, and what changed against the entry before it. "Roll back to this" asks
 * first (with a message) and restores that spec exactly; it is disabled for the newest entry when
 * that is what is deployed now.
 */
import { useState } from "react";
import { ApiError } from "../../api/client";
import type { HistoryEntry, Model } from "../../api/types";
import { useApi, useNotify } from "../../context";
import { useRoleIn } from "../../auth/user";
import { deniedReason } from "../../auth/roles";
import { usePagedList } from "../../hooks/usePagedList";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { TableHead } from "../../components/TableHead";
import { DeniedButton } from "../../components/Guarded";
import { LoadMore } from "../../components/LoadMore";
import { Empty, ErrorState, InlineError, Loading, errorText } from "../../components/States";
import { QuotaBanner } from "../../components/QuotaBanner";
import { Time } from "../../components/Time";
import { formatCpu, formatLocal, formatMemory } from "../../lib/format";
import { diffSpecs, shortSha, specEquals } from "../../lib/deployments";

const PAGE = 50;

export function HistoryTab({ model, onChanged, onStale }: { model: Model; onChanged: (model: Model) => void; onStale: () => void }) {
  const api = useApi();
  const notify = useNotify();
  const denied = deniedReason(useRoleIn(model.project), "lifecycle", model.project);
  // A deployment change, start or stop adds an entry and a revision.
  const history = usePagedList(
    (nextToken, signal) => api.listHistory(model.id, { limit: PAGE, nextToken }, signal),
    [api, model.id, model.revision],
  );
  const [target, setTarget] = useState<HistoryEntry | null>(null);
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  if (history.error && !history.items)
    return <ErrorState error={history.error} title="Could not load the history" onRetry={history.reload} />;
  if (!history.items) return <Loading label="Loading the history…" />;
  if (history.items.length === 0) return <Empty title="No deployments yet" />;
  const items = history.items;

  const open = (entry: HistoryEntry) => {
    setError(null);
    setMessage(`Roll back to the ${entry.action} of ${formatLocal(entry.at)}`);
    setTarget(entry);
  };
  const rollback = async (entry: HistoryEntry) => {
    setBusy(true);
    setError(null);
    try {
      const updated = await api.rollback(model.id, entry.entryId, message.trim(), model.revision);
      notify(
        `Rolling back to ${entry.spec
          .toSorted((a, b) => a.version - b.version)
          .map((l) => `v${l.version} ${l.weight}%`)
          .join(", ")}…`,
        "info",
      );
      setTarget(null);
      onChanged(updated);
    } catch (err) {
      setError(err);
      if (err instanceof ApiError && err.isConflict) onStale();
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="tab-content" data-testid="history-panel">
      <div className="table-wrap">
        <table className="table table-cards">
          <TableHead columns={["Time", "Who", "Action", "Message", "Spec", "Changes"]} actions="Actions" />
          <tbody>
            {items.map((e, i) => {
              const previous = items[i + 1];
              const changes = previous !== undefined ? diffSpecs(previous.spec, e.spec) : history.hasMore ? null : diffSpecs(null, e.spec);
              const current = i === 0 && specEquals(e.spec, model.deployment);
              return (
                <tr key={e.entryId} data-entry-id={e.entryId}>
                  <td data-label="Time">
                    <Time iso={e.at} />
                  </td>
                  <td data-label="Who">{e.actor}</td>
                  <td data-label="Action">
                    <span className="tag">{e.action}</span>
                  </td>
                  <td data-label="Message" className="cell-wrap">
                    {e.message || <span className="muted">—</span>}
                  </td>
                  <td data-label="Spec">
                    <ul className="spec-list">
                      {e.spec
                        .toSorted((a, b) => a.version - b.version)
                        .map((l) => (
                          <li key={l.version} className="small">
                            <strong>v{l.version}</strong> {l.weight}% · {l.replicas}× {formatCpu(l.containerCpu)},{" "}
                            {formatMemory(l.containerMemory)}
                            {l.artifactSha256 && (
                              <code className="muted" title={`sha256 ${l.artifactSha256}`}>
                                {" "}
                                {shortSha(l.artifactSha256)}
                              </code>
                            )}
                            {l.dockerImage && <code className="muted break"> {l.dockerImage}</code>}
                          </li>
                        ))}
                    </ul>
                  </td>
                  <td data-label="Changes" className="cell-wrap">
                    {changes === null ? (
                      <span className="muted small">Load older entries to compare.</span>
                    ) : changes.length === 0 ? (
                      <span className="muted small">Same spec as before.</span>
                    ) : (
                      <ul className="spec-list">
                        {changes.map((c) => (
                          <li key={c} className="small">
                            {c}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td className="cell-actions">
                    {denied || current ? (
                      <DeniedButton className="btn btn-small" reason={denied ?? "This is the deployment as it stands."}>
                        Roll back to this
                      </DeniedButton>
                    ) : (
                      <button
                        type="button"
                        className="btn btn-small"
                        aria-label={`Roll back to the entry of ${formatLocal(e.at)}`}
                        onClick={() => open(e)}
                      >
                        Roll back to this
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <LoadMore list={history} label="Load older entries" />
      <ConfirmDialog
        open={target !== null}
        title="Roll back?"
        confirmLabel="Roll back"
        busyLabel="Rolling back…"
        busy={busy}
        onClose={() => setTarget(null)}
        onConfirm={() => target && void rollback(target)}
      >
        {target && (
          <>
            <p>
              The deployment becomes that of <Time iso={target.at} />:{" "}
              <strong>
                {target.spec
                  .toSorted((a, b) => a.version - b.version)
                  .map((l) => `v${l.version} ${l.weight}% (${l.replicas}×)`)
                  .join(", ")}
              </strong>
              , through the same switch as a deployment (the current versions keep serving until those are healthy).
            </p>
            <div className="field">
              <label htmlFor="rollback-message" className="label">
                Update message
              </label>
              <input id="rollback-message" value={message} onChange={(ev) => setMessage(ev.target.value)} />
            </div>
            {error instanceof ApiError && error.isQuotaExceeded ? (
              <QuotaBanner error={error} project={model.project} />
            ) : (
              error !== null && (
                <InlineError>
                  {error instanceof ApiError && error.isConflict
                    ? `${error.message} The model was changed meanwhile and has been reloaded; try again.`
                    : errorText(error)}
                </InlineError>
              )
            )}
          </>
        )}
      </ConfirmDialog>
    </div>
  );
}
