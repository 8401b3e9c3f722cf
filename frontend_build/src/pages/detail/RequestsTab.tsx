/** Request history: time to response and status per prediction, a status filter and a details view with both bodies. */
import { useState } from "react";
import type { Model, RequestRecord } from "../../api/types";
import { InlineField } from "../../components/InlineField";
import { TableHead } from "../../components/TableHead";
import { LoadMore } from "../../components/LoadMore";
import { RefreshButton } from "../../components/RefreshButton";
import { useApi } from "../../context";
import { usePagedList } from "../../hooks/usePagedList";
import { Dialog } from "../../components/Dialog";
import { CopyButton } from "../../components/CopyButton";
import { Empty, ErrorState, Loading } from "../../components/States";
import { Time } from "../../components/Time";
import { formatBytes, formatDuration, prettyJson, statusClass } from "../../lib/format";
import { TIME_RANGES, findRange, rangeBounds } from "../../lib/time-ranges";

const PAGE = 50;
const STATUS_FILTERS = [
  { value: "", label: "All" },
  { value: "2xx", label: "Success (2xx)" },
  { value: "4xx", label: "Client errors (4xx)" },
  { value: "5xx", label: "Server errors (5xx)" },
];

/** The server filters by `status`; the same test here keeps the view right whatever the server does with it. */
function matches(record: RequestRecord, filter: string): boolean {
  return !filter || statusClass(record.status) === filter;
}

export function RequestsTab({ model }: { model: Model }) {
  const api = useApi();
  const [rangeId, setRangeId] = useState("24h");
  const [filter, setFilter] = useState("");
  const [selected, setSelected] = useState<RequestRecord | null>(null);
  const [bounds, setBounds] = useState(() => rangeBounds(findRange(rangeId)));
  const requests = usePagedList(
    (nextToken, signal) => api.listRequests(model.id, { ...bounds, status: filter, limit: PAGE, nextToken }, signal),
    [api, model.id, bounds, filter],
  );
  const refresh = () => setBounds(rangeBounds(findRange(rangeId)));
  const items = (requests.items ?? []).filter((r) => matches(r, filter));

  return (
    <div className="tab-content">
      <div className="toolbar">
        <InlineField label="Range">
          <select
            value={rangeId}
            onChange={(e) => {
              setRangeId(e.target.value);
              setBounds(rangeBounds(findRange(e.target.value)));
            }}
          >
            {TIME_RANGES.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
          </select>
        </InlineField>
        <InlineField label="Status">
          <select value={filter} onChange={(e) => setFilter(e.target.value)}>
            {STATUS_FILTERS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        </InlineField>
        <RefreshButton onClick={refresh} busy={requests.loading} />
      </div>
      {requests.error && !requests.items ? (
        <ErrorState error={requests.error} title="Could not load the request history" onRetry={requests.reload} />
      ) : !requests.items ? (
        <Loading label="Loading requests…" />
      ) : items.length === 0 ? (
        <Empty title={filter ? "No requests with this status in this range" : "No requests in this range"}>
          <p>Predictions sent to this model appear here with their status and time to response.</p>
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table table-cards">
            <TableHead columns={["Time", "Status", "Time to response", "Request", "Response", "Version"]} actions="Details" />
            <tbody>
              {items.map((r) => (
                <tr key={r.requestId}>
                  <td data-label="Time">
                    <Time iso={r.time} />
                  </td>
                  <td data-label="Status">
                    <span className={`http http-${statusClass(r.status)}`}>{r.status}</span>
                  </td>
                  <td data-label="Time to response">{formatDuration(r.latencyMs)}</td>
                  <td data-label="Request">{formatBytes(r.requestBytes)}</td>
                  <td data-label="Response">{formatBytes(r.responseBytes)}</td>
                  <td data-label="Version">{r.modelVersion}</td>
                  <td>
                    <button
                      type="button"
                      className="btn btn-small"
                      onClick={() => setSelected(r)}
                      aria-label={`Details of request ${r.requestId}`}
                    >
                      Details
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore list={requests} label="Load older requests" />

      <Dialog open={!!selected} title="Request details" onClose={() => setSelected(null)} wide>
        {selected && (
          <>
            <dl className="details">
              <dt>Request id</dt>
              <dd>
                <code>{selected.requestId}</code>{" "}
                <CopyButton text={selected.requestId} label="Copy the request id" className="btn btn-tiny" />
              </dd>
              <dt>Time</dt>
              <dd>
                <Time iso={selected.time} />
              </dd>
              <dt>Status</dt>
              <dd>{selected.status}</dd>
              <dt>Time to response</dt>
              <dd>
                {formatDuration(selected.latencyMs)}
                {typeof selected.containerMs === "number" && (
                  <span className="muted"> (in the container: {formatDuration(selected.containerMs)})</span>
                )}
              </dd>
              {selected.caller && (
                <>
                  <dt>Caller</dt>
                  <dd>{selected.caller}</dd>
                </>
              )}
              <dt>Model version</dt>
              <dd>{selected.modelVersion}</dd>
            </dl>
            <h3>Request body ({formatBytes(selected.requestBytes)})</h3>
            {selected.requestBody === null ? (
              <p className="muted">Not recorded.</p>
            ) : (
              <pre className="code-block">{prettyJson(selected.requestBody)}</pre>
            )}
            <h3>Response body ({formatBytes(selected.responseBytes)})</h3>
            {selected.responseBody === null ? (
              <p className="muted">Not recorded.</p>
            ) : (
              <pre className="code-block">{prettyJson(selected.responseBody)}</pre>
            )}
          </>
        )}
      </Dialog>
    </div>
  );
}
