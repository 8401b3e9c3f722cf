/**
 * The operations log: who did what and when, status transitions and their reasons, newest first.
 * A run of identical entries (a crash loop restarting the same way) shows as one row with a count.
 */
import type { Model } from "../../api/types";
import { useApi } from "../../context";
import { usePagedList } from "../../hooks/usePagedList";
import { LoadMore } from "../../components/LoadMore";
import { TableHead } from "../../components/TableHead";
import { Empty, ErrorState, Loading } from "../../components/States";
import { Time } from "../../components/Time";
import { collapseRepeats } from "../../lib/operations";

const PAGE = 50;

export function OperationsTab({ model }: { model: Model }) {
  const api = useApi();
  // Reload when the record changes (a new transition or edit adds a log entry).
  const log = usePagedList(
    (nextToken, signal) => api.listOperations(model.id, { limit: PAGE, nextToken }, signal),
    [api, model.id, model.revision, model.status],
  );

  if (log.error && !log.items) return <ErrorState error={log.error} title="Could not load the operations log" onRetry={log.reload} />;
  if (!log.items) return <Loading label="Loading the operations log…" />;
  if (log.items.length === 0) return <Empty title="No operations recorded yet" />;
  const rows = collapseRepeats(log.items);

  return (
    <div className="tab-content">
      <div className="table-wrap">
        <table className="table table-cards">
          <TableHead columns={["Time", "Who", "Action", "Status", "Result", "Reason"]} />
          <tbody>
            {rows.map(({ entry: e, count, newest, oldest }, i) => (
              <tr key={`${e.at}-${i}`}>
                <td data-label="Time">
                  <Time iso={newest} />
                  {count > 1 && (
                    <span className="muted small repeat" data-testid="repeat-count">
                      {" "}
                      ×{count}, since <Time iso={oldest} />
                    </span>
                  )}
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
      <LoadMore list={log} label="Load older entries" />
    </div>
  );
}
