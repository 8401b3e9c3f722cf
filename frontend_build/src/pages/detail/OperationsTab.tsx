/** The operations log: who did what and when, status transitions and their reasons, newest first. */
import { useEffect, useState } from "react";
import type { Model, OperationLogEntry } from "../../api/types";
import { useApi } from "../../context";
import { useAsync } from "../../hooks/useAsync";
import { Empty, ErrorState, Loading, errorText } from "../../components/States";
import { Time } from "../../components/Time";

const PAGE = 50;

export function OperationsTab({ model }: { model: Model }) {
  const api = useApi();
  // Reload when the record changes (a new transition or edit adds a log entry).
  const log = useAsync((signal) => api.listOperations(model.id, { limit: PAGE }, signal), [api, model.id, model.revision, model.status]);
  const [more, setMore] = useState<{ items: OperationLogEntry[]; nextToken: string | null } | null>(null);
  const [moreError, setMoreError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  useEffect(() => setMore(null), [model.id, model.revision, model.status]);

  if (log.error && !log.data) return <ErrorState error={log.error} title="Could not load the operations log" onRetry={log.reload} />;
  if (!log.data) return <Loading label="Loading the operations log…" />;
  const items = [...log.data.items, ...(more?.items ?? [])];
  const nextToken = more ? more.nextToken : log.data.nextToken;
  if (items.length === 0) return <Empty title="No operations recorded yet" />;

  const loadMore = async () => {
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await api.listOperations(model.id, { limit: PAGE, nextToken });
      setMore((old) => ({ items: [...(old?.items ?? []), ...page.items], nextToken: page.nextToken }));
    } catch (err) {
      setMoreError(err);
    } finally {
      setLoadingMore(false);
    }
  };

  return (
    <div className="tab-content">
      <div className="table-wrap">
        <table className="table table-cards">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Status</th>
              <th scope="col">Result</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {items.map((e, i) => (
              <tr key={`${e.at}-${i}`}>
                <td data-label="Time">
                  <Time iso={e.at} />
                </td>
                <td data-label="Who">{e.actor}</td>
                <td data-label="Action">
                  <span className="tag">{e.action}</span>
                </td>
                <td data-label="Status">
                  {e.fromStatus || e.toStatus ? (
                    <>
                      {e.fromStatus ?? "—"} <span aria-label="to">→</span> {e.toStatus ?? "—"}
                    </>
                  ) : (
                    "—"
                  )}
                </td>
                <td data-label="Result">{e.result}</td>
                <td data-label="Reason" className="cell-wrap">
                  {e.reason ?? ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {moreError !== null && (
        <p className="field-error" role="alert">
          {errorText(moreError)}
        </p>
      )}
      {nextToken && (
        <button type="button" className="btn" onClick={loadMore} disabled={loadingMore}>
          {loadingMore ? "Loading…" : "Load older entries"}
        </button>
      )}
    </div>
  );
}
