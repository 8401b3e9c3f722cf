/** The container's latest log lines, oldest at the top and scrolled to the bottom, with a download of the whole log. */
import { useLayoutEffect, useRef, useState } from "react";
import type { Model } from "../../api/types";
import { LoadMore } from "../../components/LoadMore";
import { RefreshButton } from "../../components/RefreshButton";
import { useApi, useNotify } from "../../context";
import { useInterval } from "../../hooks/useAsync";
import { usePagedList } from "../../hooks/usePagedList";
import { Empty, ErrorState, Loading, errorText } from "../../components/States";
import { formatClock, formatLocal, formatLogMessage, formatUtc } from "../../lib/format";

const PAGE = 200;
const FOLLOW_MS = 5000;

export function ContainerLogsTab({ model }: { model: Model }) {
  const api = useApi();
  const notify = useNotify();
  const [follow, setFollow] = useState(false);
  const [downloading, setDownloading] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const logs = usePagedList((nextToken, signal) => api.listContainerLogs(model.id, { limit: PAGE, nextToken }, signal), [api, model.id]);
  useInterval(logs.reload, FOLLOW_MS, follow && !logs.error);

  // Newest first from the API; shown oldest first like a terminal.
  const lines = [...(logs.items ?? [])].reverse();
  const newest = lines[lines.length - 1]?.time;

  useLayoutEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [newest]);

  const download = async () => {
    setDownloading(true);
    try {
      const blob = await api.downloadContainerLogs(model.id);
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `${model.name}-container.log`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      notify(`Could not download the log: ${errorText(err)}`, "error");
    } finally {
      setDownloading(false);
    }
  };

  return (
    <div className="tab-content">
      <div className="toolbar">
        <RefreshButton onClick={logs.reload} busy={logs.loading} />
        <label className="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
          Follow (every {FOLLOW_MS / 1000} s)
        </label>
        <button type="button" className="btn" onClick={download} disabled={downloading}>
          {downloading ? "Downloading…" : "Download whole log"}
        </button>
      </div>
      {logs.error && !logs.items ? (
        <ErrorState error={logs.error} title="Could not load the container logs" onRetry={logs.reload} />
      ) : !logs.items ? (
        <Loading label="Loading the container logs…" />
      ) : lines.length === 0 ? (
        <Empty title="No log lines yet">
          <p>The container writes its log here once the model has been started.</p>
        </Empty>
      ) : (
        <>
          <LoadMore list={logs} label="Load older lines" small />
          <div ref={box} className="log-box" role="log" aria-label="Container log" tabIndex={0}>
            {lines.map((line, i) => (
              <div className="log-line" key={`${line.time}-${i}`}>
                <time dateTime={line.time} title={`${formatLocal(line.time)} · ${formatUtc(line.time)}`} className="log-time">
                  {formatClock(line.time)}
                </time>
                <LogMessage raw={line.message} />
              </div>
            ))}
          </div>
        </>
      )}
    </div>
  );
}

function LogMessage({ raw }: { raw: string }) {
  const view = formatLogMessage(raw);
  return (
    <span className="log-message" title={view.level ? raw : undefined}>
      {view.level && <span className={`log-level log-level-${view.level.toLowerCase()}`}>{view.level}</span>}
      {view.text}
    </span>
  );
}
