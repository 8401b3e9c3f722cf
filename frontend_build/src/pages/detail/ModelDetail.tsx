/**
 * One model: its settings (its description as Markdown, its metadata), start/stop/edit/delete, the artifact
 * upload (or an image's private registry credentials), its deployment (status per version, libraries, a
 * banner for load warnings, the Deploy dialog), "Run an example", and the tabs (operations log, versions,
 * deployment history, requests, container logs, metrics, and client tokens for admins). Polls while the model
 * or its deployment is changing. Controls the user's role in the model's project does not allow are
 * disabled with the reason as a tooltip.
 */
import { lazy, Suspense, useEffect, useState } from "react";
import { ApiError } from "../../api/client";
import type { Model } from "../../api/types";
import { RefreshButton } from "../../components/RefreshButton";
import { useApi, useNotify, useWithdrawNotice } from "../../context";
import { useAsync, useInterval } from "../../hooks/useAsync";
import { CopyButton } from "../../components/CopyButton";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { PageTitle } from "../../components/PageTitle";
import { ErrorState, InlineError, Loading, RefreshFailed, errorText } from "../../components/States";
import { StatusBadge } from "../../components/StatusBadge";
import { Tabs } from "../../components/Tabs";
import { Time } from "../../components/Time";
import { formatBytes, formatCpu, formatMemory, formatUsd } from "../../lib/format";
import { TRANSITIONAL, canDelete, canStart, canStop, needsPolling, startBlocker } from "../../lib/models";
import { href, navigate, type DetailTab } from "../../lib/routes";
import { ArtifactUpload } from "./ArtifactUpload";
import { ContainerLogsTab } from "./ContainerLogsTab";
import { DeployDialog } from "./DeployDialog";
import { DeploymentPanel, LoadWarningsBanner } from "./DeploymentPanel";
import { HistoryTab } from "./HistoryTab";
import { VersionsTab } from "./VersionsTab";
import { switching } from "../../lib/deployments";
import { OperationsTab } from "./OperationsTab";
import { RegistryPanel } from "./RegistryPanel";
import { RequestsTab } from "./RequestsTab";
import { RunExample, type ExampleCredentials } from "./RunExample";
import { DeniedButton } from "../../components/Guarded";
import { QuotaBanner } from "../../components/QuotaBanner";
import { MetadataTags } from "../../components/MetadataTags";
import { useUser } from "../../auth/user";
import { can, deniedReason, roleIn } from "../../auth/roles";
import { isActive, rolloutBanner } from "../../lib/rollouts";
import { modelRollout } from "../../api/safety-types";

// uPlot is only needed here: load it with the tab.
const MetricsTab = lazy(() => import("./MetricsTab"));
// The safe-rollout tabs load with their tab too: most visits to a model never open them.
const RolloutTab = lazy(() => import("./RolloutTab").then((m) => ({ default: m.RolloutTab })));
const ReplaysTab = lazy(() => import("./ReplaysTab").then((m) => ({ default: m.ReplaysTab })));
// The description's Markdown renderer (react-markdown and its parser) comes with a model that has a description.
const Markdown = lazy(() => import("../../components/Markdown"));
// Client tokens are for admins only: load that tab when it opens.
const ClientsTab = lazy(() => import("./ClientsTab"));

const POLL_MS = 3000;

const TAB_LABELS: Record<DetailTab, string> = {
  operations: "Operations log",
  versions: "Versions",
  history: "History",
  rollout: "Rollout",
  replays: "Replays",
  requests: "Requests",
  "container-logs": "Container logs",
  metrics: "Metrics",
  clients: "Clients",
};

export function ModelDetail({ id, tab }: { id: string; tab: DetailTab }) {
  const api = useApi();
  const notify = useNotify();
  const model = useAsync((signal) => api.getModel(id, signal), [api, id]);
  const [acting, setActing] = useState(false);
  const [confirmStop, setConfirmStop] = useState(false);
  const [deleting, setDeleting] = useState(false);
  // The Deploy dialog: closed (null), open as it stands ({}), or with one version promoted to 100%.
  const [deploying, setDeploying] = useState<{ promote?: number } | null>(null);
  // A client token created on this page, kept in memory only, for the curl example.
  const [credentials, setCredentials] = useState<ExampleCredentials | null>(null);
  // A start the project's quota refused: said under the header until dismissed or a start goes through.
  const [quotaError, setQuotaError] = useState<ApiError | null>(null);
  const { roles } = useUser();
  const withdraw = useWithdrawNotice();
  const m = model.data;
  // A switch between versions happens while the model stays RUNNING: follow it too.
  // So does a rollout, which changes the deployment step by step.
  const changing =
    !!m &&
    (needsPolling([m]) ||
      switching(m.deployment) ||
      m.deployment.some((d) => TRANSITIONAL.includes(d.status)) ||
      isActive(modelRollout(m)));
  useInterval(model.reload, POLL_MS, changing && !model.error);
  // "Starting …" / "Stopping …" stop being true once the model gets there; a failed start once a file is uploaded.
  const settled = !!m && !TRANSITIONAL.includes(m.status);
  useEffect(() => {
    if (settled) withdraw(`lifecycle:${id}`);
  }, [settled, m?.status, id, withdraw]);
  const uploadedAt = m?.artifact?.uploadedAt;
  useEffect(() => {
    if (uploadedAt) withdraw(`start-failed:${id}`);
  }, [uploadedAt, id, withdraw]);

  if (model.error && !m) {
    const gone = model.error instanceof ApiError && model.error.isNotFound;
    return (
      <section className="page">
        <p className="breadcrumb">
          <a href={href({ page: "list" })}>Models</a> /
        </p>
        <PageTitle>{gone ? "Model not found" : "Model"}</PageTitle>
        <ErrorState
          error={model.error}
          title={gone ? "There is no model with this id" : "Could not load the model"}
          onRetry={gone ? undefined : model.reload}
        />
        {gone && <a href={href({ page: "list" })}>Back to the models</a>}
      </section>
    );
  }
  if (!m) return <Loading label="Loading the model…" />;

  // What the user may do here follows their role in the model's project.
  const role = roleIn(roles, m.project);
  const lifecycleDenied = deniedReason(role, "lifecycle", m.project);
  const editDenied = deniedReason(role, "edit", m.project);
  const deleteDenied = deniedReason(role, "delete", m.project);

  const act = async (action: "start" | "stop") => {
    setActing(true);
    try {
      model.setData(action === "start" ? await api.startModel(m.id) : await api.stopModel(m.id));
      setQuotaError(null);
      notify(action === "start" ? `Starting ${m.name}…` : `Stopping ${m.name}…`, "info", `lifecycle:${m.id}`);
    } catch (err) {
      if (err instanceof ApiError && err.isQuotaExceeded) setQuotaError(err);
      else notify(`Could not ${action} ${m.name}: ${errorText(err)}`, "error", `start-failed:${m.id}`);
    } finally {
      setActing(false);
    }
  };

  const blocked = startBlocker(m);

  return (
    <section className="page">
      <p className="breadcrumb">
        <a href={href({ page: "list" })}>Models</a> /
      </p>
      <div className="page-header">
        <div className="title-row">
          <PageTitle>{m.name}</PageTitle>
          <StatusBadge status={m.status} reason={m.statusReason} />
        </div>
        <div className="actions">
          {canStart(m) &&
            (lifecycleDenied || blocked ? (
              <DeniedButton className="btn btn-primary" reason={lifecycleDenied ?? blocked ?? ""}>
                Start
              </DeniedButton>
            ) : (
              <button type="button" className="btn btn-primary" onClick={() => act("start")} disabled={acting}>
                Start
              </button>
            ))}
          {canStop(m) &&
            (lifecycleDenied ? (
              <DeniedButton reason={lifecycleDenied}>Stop</DeniedButton>
            ) : (
              <button type="button" className="btn" onClick={() => setConfirmStop(true)} disabled={acting}>
                Stop
              </button>
            ))}
          {editDenied ? (
            <DeniedButton reason={editDenied}>Edit</DeniedButton>
          ) : (
            <a className="btn" href={href({ page: "edit", id: m.id })}>
              Edit
            </a>
          )}
          {deleteDenied ? (
            <DeniedButton className="btn btn-danger-outline" reason={deleteDenied}>
              Delete
            </DeniedButton>
          ) : (
            <button type="button" className="btn btn-danger-outline" onClick={() => setDeleting(true)}>
              Delete
            </button>
          )}
          <RefreshButton onClick={model.reload} busy={model.loading} label="Refresh the model" />
        </div>
      </div>
      {m.status === "FAILED" && m.statusReason && (
        <div className="banner banner-error" role="alert">
          <strong>Failed:</strong> {m.statusReason}
          {m.failedForGood && " It will not be restarted: fix the cause (a new file, a larger size) and start it again."}
        </div>
      )}
      <LoadWarningsBanner model={m} />
      <RolloutBanner model={m} />
      {quotaError && <QuotaBanner error={quotaError} project={m.project} onDismiss={() => setQuotaError(null)} />}
      <RefreshFailed error={model.error} />

      <div className="detail-grid">
        <InfoPanel model={m} />
        <div className="detail-side">
          {m.artifactFormat && <ArtifactUpload model={m} onUploaded={model.reload} />}
          {(m.dockerImage || m.privateRegistry) && <RegistryPanel model={m} onChanged={model.setData} />}
          <RunExample model={m} credentials={credentials} />
        </div>
      </div>

      <DeploymentPanel model={m} denied={lifecycleDenied} onDeploy={(promote) => setDeploying({ promote })} />

      <Tabs
        label="Model activity"
        current={tab}
        tabs={(Object.keys(TAB_LABELS) as DetailTab[])
          .filter((t) => t !== "clients" || can(role, "clients") || tab === "clients")
          .map((t) => ({
            id: t,
            label: TAB_LABELS[t],
            href: href({ page: "detail", id: m.id, tab: t }),
          }))}
      >
        {tab === "operations" && <OperationsTab model={m} />}
        {tab === "versions" && <VersionsTab model={m} onChanged={model.reload} />}
        {tab === "history" && <HistoryTab model={m} onChanged={model.setData} onStale={model.reload} />}
        {tab === "rollout" && (
          <Suspense fallback={<Loading label="Loading…" />}>
            <RolloutTab model={m} onChanged={model.reload} />
          </Suspense>
        )}
        {tab === "replays" && (
          <Suspense fallback={<Loading label="Loading…" />}>
            <ReplaysTab model={m} />
          </Suspense>
        )}
        {tab === "requests" && <RequestsTab model={m} />}
        {tab === "container-logs" && <ContainerLogsTab model={m} />}
        {tab === "clients" && (
          <Suspense fallback={<Loading label="Loading…" />}>
            <ClientsTab model={m} onCreated={setCredentials} onRevoked={(name) => setCredentials((c) => (c?.name === name ? null : c))} />
          </Suspense>
        )}
        {tab === "metrics" && (
          <Suspense fallback={<Loading label="Loading charts…" />}>
            <MetricsTab model={m} />
          </Suspense>
        )}
      </Tabs>

      <ConfirmDialog
        open={confirmStop}
        title={`Stop ${m.name}?`}
        confirmLabel="Stop model"
        onClose={() => setConfirmStop(false)}
        onConfirm={() => {
          setConfirmStop(false);
          void act("stop");
        }}
      >
        <p>The model's container stops and predictions to it fail until it is started again.</p>
      </ConfirmDialog>

      {deploying && (
        <DeployDialog
          model={m}
          promoteVersion={deploying.promote}
          onClose={() => setDeploying(null)}
          onDeployed={model.setData}
          onStale={model.reload}
        />
      )}

      <DeleteDialog
        model={m}
        open={deleting}
        onClose={() => setDeleting(false)}
        onDeleted={() => {
          notify(`Deleted ${m.name}.`);
          navigate({ page: "list" });
        }}
      />
    </section>
  );
}

/** Said under the header while a rollout runs or is paused, and when the last one rolled back (with its reason). */
function RolloutBanner({ model: m }: { model: Model }) {
  const banner = rolloutBanner(modelRollout(m));
  if (!banner) return null;
  return (
    <div className={`banner banner-${banner.tone}`} role={banner.tone === "error" ? "alert" : "status"} data-testid="rollout-banner">
      {banner.text} <a href={href({ page: "detail", id: m.id, tab: "rollout" })}>See the rollout</a>
    </div>
  );
}

/** What the model costs, reloaded when its status or deployment changes; an estimate from list prices. */
function CostSummary({ model: m }: { model: Model }) {
  const api = useApi();
  const cost = useAsync((signal) => api.getCost(m.id, signal), [api, m.id, m.status, m.revision]);
  if (cost.error) return <span className="muted">not available ({errorText(cost.error)})</span>;
  const c = cost.data;
  if (!c) return <span className="muted">…</span>;
  const perThousand = c.perThousandPredictions;
  const where = c.pricedAs === c.region ? c.region : `${c.region}, priced as ${c.pricedAs}`;
  return (
    <span title={`Estimate from AWS list prices of ${c.pricesAsOf} (${where}): ${c.pricesSource}`}>
      {formatUsd(c.hourly)}/hour {c.running ? "while running" : "when running"} (Fargate Spot about {formatUsd(c.spotHourly)}) ·{" "}
      {formatUsd(c.monthToDate)} this month · {formatUsd(perThousand.total)} per 1,000 predictions
      {perThousand.containers === null && " (gateway and Lambda; no request yet this month)"}
    </span>
  );
}

function InfoPanel({ model: m }: { model: Model }) {
  const env = Object.entries(m.env ?? {});
  return (
    <section className="panel" aria-labelledby="info-title">
      <h2 id="info-title">Information</h2>
      <dl className="details">
        <dt>Id</dt>
        <dd>
          <code className="break">{m.id}</code> <CopyButton text={m.id} label="Copy the model id" className="btn btn-tiny" />
        </dd>
        <dt>Project</dt>
        <dd data-testid="model-project">
          <a href={href({ page: "project", name: m.project })}>{m.project}</a>
        </dd>
        <dt>Version</dt>
        <dd>{m.version}</dd>
        {m.description && (
          <>
            <dt>Description</dt>
            <dd data-testid="model-description">
              {/* Until the Markdown renderer has loaded, the text as it is (React escapes it). */}
              <Suspense fallback={<span className="prewrap">{m.description}</span>}>
                <Markdown text={m.description} />
              </Suspense>
            </dd>
          </>
        )}
        <dt>{m.dockerImage ? "Image" : "Artifact format"}</dt>
        <dd className="mono break">{m.dockerImage ?? m.artifactFormat}</dd>
        <dt>Size</dt>
        <dd>
          {formatCpu(m.containerCpu)}, {formatMemory(m.containerMemory)}
        </dd>
        <dt>Cost</dt>
        <dd data-testid="cost">
          <CostSummary model={m} />
        </dd>
        <dt>Port</dt>
        <dd>{m.containerPort}</dd>
        {m.endpointVisibility && (
          <>
            <dt>Endpoint</dt>
            <dd data-testid="endpoint-visibility">
              {m.endpointVisibility === "public" ? "public: anyone can call it, no token needed" : "private: callers need a token"}
            </dd>
          </>
        )}
        <dt>Paths</dt>
        <dd className="mono">
          predict {m.predictPath}, health {m.healthPath}
        </dd>
        {m.predictTimeoutSeconds !== undefined && (
          <>
            <dt>Predict timeout</dt>
            <dd>{m.predictTimeoutSeconds} s</dd>
          </>
        )}
        {m.captureBodyBytes !== undefined && (
          <>
            <dt>Bodies recorded</dt>
            <dd>up to {formatBytes(m.captureBodyBytes)} each</dd>
          </>
        )}
        <dt>Rate limit</dt>
        <dd>{m.rateLimitPerSecond ? `${m.rateLimitPerSecond} requests/s, then 429` : "none (the stage's limits only)"}</dd>
        <dt>Idle stop</dt>
        <dd data-testid="idle-stop">
          {m.idleStopMinutes
            ? `after ${m.idleStopMinutes} min without a request; the next request wakes it`
            : "off (keeps running until stopped)"}
          {m.status === "IDLE" && m.idleSince && (
            <>
              {" "}
              · idle since <Time iso={m.idleSince} />
            </>
          )}
        </dd>
        <dt>Schedules</dt>
        <dd data-testid="schedules">
          {!m.schedules?.length ? (
            "none (starts and stops only when asked)"
          ) : (
            <ul className="plain-list">
              {m.schedules.map((s, i) => (
                <li key={i} data-testid="schedule">
                  {s.action === "start" ? "Start" : "Stop"} at <code>{s.cron}</code> ({s.timezone}) · next <Time iso={s.nextRun} />
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Metadata</dt>
        <dd>
          {Object.keys(m.metadata ?? {}).length ? (
            <MetadataTags metadata={m.metadata} testId="model-metadata" />
          ) : (
            <span className="muted">None</span>
          )}
        </dd>
        <dt>Environment</dt>
        <dd>
          {env.length === 0 ? (
            <span className="muted">None</span>
          ) : (
            <ul className="env-list">
              {env.map(([k, v]) => (
                <li key={k} className="mono break">
                  {typeof v === "string" ? (
                    `${k}=${v}`
                  ) : (
                    <>
                      {k}=<span className="muted">•••••• (secret, never shown)</span>
                    </>
                  )}
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Created</dt>
        <dd>
          <Time iso={m.createdAt} /> by {m.createdBy}
        </dd>
        <dt>Updated</dt>
        <dd>
          <Time iso={m.updatedAt} /> by {m.updatedBy} (revision {m.revision})
        </dd>
      </dl>
    </section>
  );
}

function DeleteDialog({ model, open, onClose, onDeleted }: { model: Model; open: boolean; onClose: () => void; onDeleted: () => void }) {
  const api = useApi();
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const matches = typed === model.name;
  const close = () => {
    setTyped("");
    setError(null);
    onClose();
  };
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.deleteModel(model.id);
      setTyped("");
      onClose();
      onDeleted();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <ConfirmDialog
      open={open}
      title={`Delete ${model.name}?`}
      confirmLabel="Delete model"
      busyLabel="Deleting…"
      busy={busy}
      disabled={!matches}
      onClose={close}
      onConfirm={() => void submit()}
    >
      <p>This removes the model and its uploaded file. It cannot be undone.</p>
      {!canDelete(model) && <p className="banner banner-warning">The model is {model.status.toLowerCase()}: stop it before deleting it.</p>}
      <label htmlFor="confirm-name" className="label">
        Type <strong className="mono">{model.name}</strong> to confirm
      </label>
      <input
        id="confirm-name"
        value={typed}
        onChange={(e) => setTyped(e.target.value)}
        autoComplete="off"
        spellCheck={false}
        data-autofocus
      />
      {error !== null && (
        <InlineError>
          {error instanceof ApiError && error.isConflict ? `${error.message} Stop the model first.` : errorText(error)}
        </InlineError>
      )}
    </ConfirmDialog>
  );
}
