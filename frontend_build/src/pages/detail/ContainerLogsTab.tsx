/** The container's latest log lines, oldest at the top and scrolled to the bottom, with a download of the whole log. */
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import type { ContainerLogLine, Model } from "../../api/types";
import { RefreshButton } from "../../components/RefreshButton";
import { useApi, useNotify } from "../../context";
import { useAsync, useInterval } from "../../hooks/useAsync";
import { Empty, ErrorState, Loading, errorText } from "../../components/States";
import { formatClock, formatLocal, formatLogMessage, formatUtc } from "../../lib/format";

const PAGE = 200;
const FOLLOW_MS = 5000;

export function ContainerLogsTab({ model }: { model: Model }) {
  const api = useApi();
  const notify = useNotify();
  const [follow, setFollow] = useState(false);
  const [older, setOlder] = useState<{ items: ContainerLogLine[]; nextToken: string | null } | null>(null);
  const [downloading, setDownloading] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const logs = useAsync((signal) => api.listContainerLogs(model.id, { limit: PAGE }, signal), [api, model.id]);
  useInterval(logs.reload, FOLLOW_MS, follow && !logs.error);
  useEffect(() => setOlder(null), [model.id]);

  // Newest first from the API; shown oldest first like a terminal.
  const latest = logs.data ? [...logs.data.items].reverse() : [];
  const lines = [...[...(older?.items ?? [])].reverse(), ...latest];
  const nextToken = older ? older.nextToken : (logs.data?.nextToken ?? null);
  const newest = latest[latest.length - 1]?.time;

  useLayoutEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [newest, logs.data]);

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

  const loadOlder = async () => {
    if (!nextToken) return;
    setLoadingOlder(true);
    try {
      const page = await api.listContainerLogs(model.id, { limit: PAGE, nextToken });
      setOlder((old) => ({ items: [...(old?.items ?? []), ...page.items], nextToken: page.nextToken }));
    } catch (err) {
      notify(`Could not load older lines: ${errorText(err)}`, "error");
    } finally {
      setLoadingOlder(false);
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
      {logs.error && !logs.data ? (
        <ErrorState error={logs.error} title="Could not load the container logs" onRetry={logs.reload} />
      ) : !logs.data ? (
        <Loading label="Loading the container logs…" />
      ) : lines.length === 0 ? (
        <Empty title="No log lines yet">
          <p>The container writes its log here once the model has been started.</p>
        </Empty>
      ) : (
        <>
          {nextToken && (
            <button type="button" className="btn btn-small" onClick={loadOlder} disabled={loadingOlder}>
              {loadingOlder ? "Loading…" : "Load older lines"}
            </button>
          )}
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
