/**
 * Metrics over a chosen range (by default the shortest that holds the model's life): response times
 * (avg, p50, p90, p99), requests per second, availability (no 5xx) and success (2xx) side by side,
 * 4xx and 5xx; with more than one version deployed, also response time, requests and 5xx per
 * version (one series each, read with `?version=N`) to compare them; and the containers' CPU and memory
 * as shares of what they reserved, flagged when a replica's memory nears its limit. Loaded lazily (it
 * brings uPlot) and refreshing itself every 30 seconds.
 */
import { useMemo, useState } from "react";
import type { Model } from "../../api/types";
import { InlineField } from "../../components/InlineField";
import { RefreshButton } from "../../components/RefreshButton";
import { useApi } from "../../context";
import { useAsync, useInterval } from "../../hooks/useAsync";
import { Chart } from "../../components/Chart";
import { Empty, ErrorState, Loading, errorText } from "../../components/States";
import { formatDuration, formatPercent } from "../../lib/format";
import {
  MEMORY_WARNING_PERCENT,
  alignByVersion,
  availabilityPercent,
  latest,
  memoryNearLimit,
  requestsPerSecond,
  series,
  successPercent,
  summarize,
  timesInSeconds,
} from "../../lib/metrics";
import { TIME_RANGES, findRange, rangeBounds, rangeForAge } from "../../lib/time-ranges";

const REFRESH_MS = 30_000;
const VERSION_COLORS = ["#2563eb", "#d97706", "#16a34a", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#475569", "#ea580c"];

export default function MetricsTab({ model }: { model: Model }) {
  const api = useApi();
  const [rangeId, setRangeId] = useState(() => rangeForAge(model.createdAt).id);
  const range = findRange(rangeId);
  const metrics = useAsync(
    (signal) => api.getMetrics(model.id, { ...rangeBounds(range), period: range.period }, signal),
    [api, model.id, range],
  );
  // Every version of the deployment (those leaving too, while they still answer).
  const versions = useMemo(() => [...new Set(model.deployment.map((d) => d.version))].sort((a, b) => a - b), [model.deployment]);
  const versionKey = versions.join(",");
  const perVersion = useAsync(
    (signal) =>
      versions.length < 2
        ? Promise.resolve([])
        : Promise.all(
            versions.map((version) =>
              api
                .getMetrics(model.id, { ...rangeBounds(range), period: range.period, version }, signal)
                .then((metrics) => ({ version, metrics })),
            ),
          ),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [api, model.id, range, versionKey],
  );
  useInterval(metrics.reload, REFRESH_MS, !metrics.error);
  useInterval(perVersion.reload, REFRESH_MS, !perVersion.error && versions.length > 1);
  const data = metrics.data;
  const byVersion = useMemo(() => {
    const list = perVersion.data;
    if (!list || list.length < 2) return null;
    const chart = (pick: Parameters<typeof alignByVersion>[1]) => {
      const aligned = alignByVersion(list, pick);
      return {
        times: aligned.times,
        series: aligned.series.map((s, i) => ({
          label: `v${s.version}`,
          values: s.values,
          color: VERSION_COLORS[i % VERSION_COLORS.length] ?? "#2563eb",
        })),
      };
    };
    return {
      latency: chart((m) => series(m, "latencyAvg")),
      rps: chart(requestsPerSecond),
      errors: chart((m) => series(m, "errors5xx")),
    };
  }, [perVersion.data]);

  const view = useMemo(() => {
    if (!data) return null;
    return {
      times: timesInSeconds(data),
      latency: [
        { label: "avg", values: series(data, "latencyAvg"), color: "#2563eb" },
        { label: "p50", values: series(data, "latencyP50"), color: "#16a34a" },
        { label: "p90", values: series(data, "latencyP90"), color: "#d97706" },
        { label: "p99", values: series(data, "latencyP99"), color: "#dc2626" },
      ],
      rps: [{ label: "requests/s", values: requestsPerSecond(data), color: "#2563eb" }],
      rates: [
        { label: "availability (no 5xx)", values: availabilityPercent(data), color: "#2563eb" },
        { label: "success (2xx)", values: successPercent(data), color: "#16a34a" },
      ],
      errors: [
        { label: "4xx", values: series(data, "errors4xx"), color: "#d97706" },
        { label: "5xx", values: series(data, "errors5xx"), color: "#dc2626" },
      ],
      summary: summarize(data),
      resources: [
        { label: "CPU", values: series(data, "cpuPercent"), color: "#2563eb" },
        { label: "memory", values: series(data, "memoryPercent"), color: "#16a34a" },
        { label: "memory, fullest replica", values: series(data, "memoryPeakPercent"), color: "#dc2626" },
      ],
      cpuNow: latest(series(data, "cpuPercent")),
      memoryNow: latest(series(data, "memoryPercent")),
      memoryWarning: memoryNearLimit(data),
    };
  }, [data]);

  const resources = view && (view.cpuNow !== null || view.memoryNow !== null) && (
    <section aria-labelledby="resources-title" data-testid="resources">
      <h3 id="resources-title">Containers</h3>
      {view.memoryWarning !== null && (
        <p className="banner banner-warning" role="alert" data-testid="memory-warning">
          Memory is at {formatPercent(view.memoryWarning)} of its limit in the fullest replica (warned from {MEMORY_WARNING_PERCENT}%). A
          container past its limit is killed as out of memory: choose a larger memory size for this version before it is.
        </p>
      )}
      <dl className="stats">
        <div>
          <dt title="CPU used as a share of the vCPU the replicas reserved">CPU (of reserved)</dt>
          <dd data-testid="cpu-now">{formatPercent(view.cpuNow)}</dd>
        </div>
        <div>
          <dt title="Memory used as a share of the memory the replicas reserved">Memory (of limit)</dt>
          <dd data-testid="memory-now">{formatPercent(view.memoryNow)}</dd>
        </div>
      </dl>
      <div className="charts">
        <Chart
          title="CPU and memory (% of reserved)"
          times={view.times}
          series={view.resources}
          format={(v) => `${Number(v.toFixed(1))}%`}
          yMin={0}
          yMax={100}
        />
      </div>
    </section>
  );

  return (
    <div className="tab-content">
      <div className="toolbar">
        <InlineField label="Range">
          <select value={rangeId} onChange={(e) => setRangeId(e.target.value)}>
            {TIME_RANGES.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
          </select>
        </InlineField>
        <RefreshButton onClick={metrics.reload} busy={metrics.loading} />
        <span className="muted small">Refreshes every {REFRESH_MS / 1000} s.</span>
      </div>
      {metrics.error && !data ? (
        <ErrorState error={metrics.error} title="Could not load the metrics" onRetry={metrics.reload} />
      ) : !view ? (
        <Loading label="Loading metrics…" />
      ) : view.summary.requests === 0 ? (
        <>
          <Empty title="No requests in this range">
            <p>Send a prediction (for example with “Try it” above) and it shows up here within a minute.</p>
          </Empty>
          {resources}
        </>
      ) : (
        <>
          <dl className="stats">
            <div>
              <dt>Requests</dt>
              <dd>{view.summary.requests.toLocaleString()}</dd>
            </div>
            <div>
              <dt title="Share of requests not answered with a 5xx">Availability (no 5xx)</dt>
              <dd data-testid="availability">{formatPercent(view.summary.availability)}</dd>
            </div>
            <div>
              <dt title="Share of requests answered with a 2xx">Success (2xx)</dt>
              <dd data-testid="success">{formatPercent(view.summary.success)}</dd>
            </div>
            <div>
              <dt>Avg response time</dt>
              <dd>{formatDuration(view.summary.latencyAvg)}</dd>
            </div>
            <div>
              <dt>Worst p99</dt>
              <dd>{formatDuration(view.summary.latencyP99Max)}</dd>
            </div>
            <div>
              <dt>4xx / 5xx</dt>
              <dd>
                {view.summary.errors4xx.toLocaleString()} / {view.summary.errors5xx.toLocaleString()}
              </dd>
            </div>
          </dl>
          <div className="charts">
            <Chart title="Response time" times={view.times} series={view.latency} format={(v) => formatDuration(v)} />
            <Chart
              title="Requests per second"
              times={view.times}
              series={view.rps}
              format={(v) => (v >= 10 ? v.toFixed(0) : String(Number(v.toPrecision(2))))}
            />
            <Chart
              title="Availability and success"
              times={view.times}
              series={view.rates}
              format={(v) => `${Number(v.toFixed(1))}%`}
              yMin={0}
              yMax={100}
            />
            <Chart title="Errors (4xx and 5xx)" times={view.times} series={view.errors} format={(v) => String(Number(v.toFixed(1)))} />
          </div>
          {resources}
          {byVersion && (
            <section aria-labelledby="by-version-title" data-testid="metrics-by-version">
              <h3 id="by-version-title">By version</h3>
              <div className="charts">
                <Chart
                  title="Response time (avg) by version"
                  times={byVersion.latency.times}
                  series={byVersion.latency.series}
                  format={(v) => formatDuration(v)}
                />
                <Chart
                  title="Requests per second by version"
                  times={byVersion.rps.times}
                  series={byVersion.rps.series}
                  format={(v) => (v >= 10 ? v.toFixed(0) : String(Number(v.toPrecision(2))))}
                />
                <Chart
                  title="5xx errors by version"
                  times={byVersion.errors.times}
                  series={byVersion.errors.series}
                  format={(v) => String(Number(v.toFixed(1)))}
                />
              </div>
            </section>
          )}
          {perVersion.error !== undefined && perVersion.error !== null && (
            <p className="muted small">The per-version metrics could not be loaded: {errorText(perVersion.error)}</p>
          )}
        </>
      )}
    </div>
  );
}
