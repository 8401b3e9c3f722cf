/**
 * The models list: the switcher's project (or every project the user sees), search, status, metadata key and
 * value, creator and "deployed by me" filters, client-side sort of the loaded page, nextToken paging tied to the
 * whole query (with "Search further" when the server's read budget ends a page before any match), a column
 * chooser, each model's metadata on hover, and start/stop from the row (where the user's role in the model's
 * project allows it). It polls only while a model is PENDING or STOPPING.
 */
import { useEffect, useMemo, useState } from "react";
import { MODEL_STATUSES, type Model, type ModelStatus, type StageCost } from "../api/types";
import { ApiError } from "../api/client";
import { InlineField } from "../components/InlineField";
import { QuotaBanner } from "../components/QuotaBanner";
import { HoverCard } from "../components/HoverCard";
import { MetadataTags } from "../components/MetadataTags";
import {
  NO_FILTERS,
  filterProblems,
  isFiltered,
  listQuery,
  queryKey,
  tokensFor,
  type ModelFilters,
  type Paging,
} from "../lib/model-filters";
import { RefreshButton } from "../components/RefreshButton";
import { useApi, useNotify, useWithdrawNotice } from "../context";
import { useAsync, useInterval } from "../hooks/useAsync";
import { formatCpu, formatMemory, formatUsd } from "../lib/format";
import {
  TRANSITIONAL,
  canStart,
  canStop,
  modelSource,
  needsPolling,
  sortModels,
  startBlocker,
  type SortDir,
  type SortKey,
} from "../lib/models";
import { href } from "../lib/routes";
import { CopyButton } from "../components/CopyButton";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Empty, ErrorState, Loading, errorText } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";
import { Time } from "../components/Time";
import { PageTitle } from "../components/PageTitle";
import { DeniedButton } from "../components/Guarded";
import { useUser } from "../auth/user";
import { can, deniedReason, projectsAllowing, roleIn, bestRole } from "../auth/roles";
import { useProjects } from "../projects";

const POLL_MS = 3000;

type ColumnId = "project" | "version" | "cpu" | "memory" | "port" | "source" | "status" | "createdBy" | "createdAt" | "updatedAt";

const COLUMNS: { id: ColumnId; label: string; sort?: SortKey }[] = [
  { id: "project", label: "Project" },
  { id: "version", label: "Version", sort: "version" },
  { id: "cpu", label: "vCPU", sort: "containerCpu" },
  { id: "memory", label: "Memory", sort: "containerMemory" },
  { id: "port", label: "Port" },
  { id: "source", label: "Image or artifact" },
  { id: "status", label: "Status", sort: "status" },
  { id: "createdBy", label: "Created by" },
  { id: "createdAt", label: "Created", sort: "createdAt" },
  { id: "updatedAt", label: "Updated", sort: "updatedAt" },
];

const COLUMNS_KEY = "kraken.columns";
const DEFAULT_HIDDEN: ColumnId[] = ["port", "updatedAt"];

function loadHidden(): Set<ColumnId> {
  try {
    const raw = window.localStorage.getItem(COLUMNS_KEY);
    if (raw) return new Set(JSON.parse(raw) as ColumnId[]);
  } catch {
    /* storage unavailable: use defaults */
  }
  return new Set(DEFAULT_HIDDEN);
}

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const id = window.setTimeout(() => setDebounced(value), ms);
    return () => window.clearTimeout(id);
  }, [value, ms]);
  return debounced;
}

export function ModelsList() {
  const scope = useProjects();
  // A remembered project is listed once the user is known to still see it (no 404 for a project gone since).
  if (!scope.settled) return <Loading label="Loading models…" />;
  return <Models project={scope.selected} />;
}

function Models({ project }: { project: string | null }) {
  const api = useApi();
  const notify = useNotify();
  const [filters, setFilters] = useState<ModelFilters>(NO_FILTERS);
  const setFilter = (patch: Partial<ModelFilters>) => setFilters((old) => ({ ...old, ...patch }));
  const [pageSize, setPageSize] = useState(25);
  const { roles, username } = useUser();
  // What is typed is sent once the typing pauses; a choice (status, "deployed by me") at once.
  const typed = useDebounced(JSON.stringify([filters.search, filters.metadataKey, filters.metadataValue, filters.createdBy]), 300);
  const [search = "", metadataKey = "", metadataValue = "", createdBy = ""] = JSON.parse(typed) as string[];
  const sent: ModelFilters = { ...filters, search, metadataKey, metadataValue, createdBy };
  const query = listQuery(sent, { project, limit: pageSize, username });
  const key = queryKey(query);
  // The page tokens belong to the whole query: another filter, project or page size starts from its first page
  // at once, never sending a token of the last query's.
  const [paging, setPaging] = useState<Paging>({ key, tokens: [null] });
  const tokens = tokensFor(paging, key);
  const setTokens = (update: (old: (string | null)[]) => (string | null)[]) =>
    setPaging((old) => ({ key, tokens: update(tokensFor(old, key)) }));
  const problems = filterProblems(filters);
  const [sort, setSort] = useState<{ key: SortKey; dir: SortDir }>({ key: "createdAt", dir: "desc" });
  const [hidden, setHidden] = useState<Set<ColumnId>>(loadHidden);
  const [busy, setBusy] = useState<Record<string, boolean>>({});
  const [stopping, setStopping] = useState<Model | null>(null);
  // A start from a row that the project's quota refused, said above the list until dismissed.
  const [quotaError, setQuotaError] = useState<{ error: ApiError; project: string } | null>(null);
  // In one project, the role there; across all, adding is offered when some project allows it (the form picks which).
  const addDenied = project
    ? deniedReason(roleIn(roles, project), "create", project)
    : projectsAllowing(roles, "create").length > 0
      ? null
      : deniedReason(bestRole(roles), "create");
  // Viewers get no row buttons at all (a column of disabled buttons says nothing the banner does not).
  const mayRun = (m: Model) => can(roleIn(roles, m.project), "lifecycle");
  const token = tokens[tokens.length - 1] ?? null;

  const list = useAsync((signal) => api.listModels({ ...query, nextToken: token }, signal), [api, key, token]);
  const items = list.data?.items;
  const polling = !!items && needsPolling(items);
  useInterval(list.reload, POLL_MS, polling && !list.error);
  const stageCost = useAsync((signal) => api.getStageCost(signal), [api]);
  const withdraw = useWithdrawNotice();
  useEffect(() => {
    for (const m of items ?? []) if (!TRANSITIONAL.includes(m.status)) withdraw(`lifecycle:${m.id}`);
  }, [items, withdraw]);

  const sorted = useMemo(() => (items ? sortModels(items, sort.key, sort.dir) : []), [items, sort]);
  const visible = COLUMNS.filter((c) => !hidden.has(c.id));

  const toggleColumn = (id: ColumnId) => {
    setHidden((old) => {
      const next = new Set(old);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      try {
        window.localStorage.setItem(COLUMNS_KEY, JSON.stringify([...next]));
      } catch {
        /* not persisted; fine */
      }
      return next;
    });
  };

  const sortBy = (key: SortKey) =>
    setSort((old) =>
      old.key === key
        ? { key, dir: old.dir === "asc" ? "desc" : "asc" }
        : { key, dir: key === "createdAt" || key === "updatedAt" ? "desc" : "asc" },
    );

  const replaceItem = (model: Model) =>
    list.setData((old) => ({ items: (old?.items ?? []).map((m) => (m.id === model.id ? model : m)), nextToken: old?.nextToken ?? null }));

  const act = async (model: Model, action: "start" | "stop") => {
    setBusy((b) => ({ ...b, [model.id]: true }));
    try {
      const updated = action === "start" ? await api.startModel(model.id) : await api.stopModel(model.id);
      replaceItem(updated);
      notify(action === "start" ? `Starting ${model.name}…` : `Stopping ${model.name}…`, "info", `lifecycle:${model.id}`);
    } catch (err) {
      if (err instanceof ApiError && err.isQuotaExceeded) setQuotaError({ error: err, project: model.project });
      else notify(`Could not ${action} ${model.name}: ${errorText(err)}`, "error");
      list.reload();
    } finally {
      setBusy((b) => ({ ...b, [model.id]: false }));
    }
  };

  const filtered = isFiltered(filters);
  // The server stops reading at its budget: a page may come back empty with more to read after it.
  const further = list.data?.nextToken ?? null;

  return (
    <section className="page">
      <div className="page-header">
        <PageTitle>Models</PageTitle>
        {addDenied ? (
          <DeniedButton className="btn btn-primary" reason={addDenied}>
            Add model
          </DeniedButton>
        ) : (
          <a className="btn btn-primary" href={href({ page: "create" })}>
            Add model
          </a>
        )}
      </div>
      {project && (
        <p className="muted small" data-testid="list-scope">
          Showing the models of project <strong>{project}</strong> (<a href={href({ page: "project", name: project })}>its members</a>).
        </p>
      )}
      {stageCost.data && <StageCostLine cost={stageCost.data} />}

      <div className="toolbar" role="search">
        <InlineField label="Search by name">
          <input
            type="search"
            value={filters.search}
            onChange={(e) => setFilter({ search: e.target.value })}
            placeholder="Name contains…"
            autoComplete="off"
            maxLength={64}
          />
        </InlineField>
        <InlineField label="Status">
          <select value={filters.status} onChange={(e) => setFilter({ status: e.target.value as ModelStatus | "" })}>
            <option value="">All</option>
            {MODEL_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </InlineField>
        <InlineField label="Sort">
          <select
            value={`${sort.key}:${sort.dir}`}
            onChange={(e) => {
              const [key, dir] = e.target.value.split(":") as [SortKey, SortDir];
              setSort({ key, dir });
            }}
          >
            <option value="createdAt:desc">Newest first</option>
            <option value="createdAt:asc">Oldest first</option>
            <option value="updatedAt:desc">Recently updated</option>
            <option value="name:asc">Name A–Z</option>
            <option value="name:desc">Name Z–A</option>
            <option value="status:asc">Status</option>
            <option value="version:asc">Version</option>
            <option value="containerCpu:desc">Most vCPU</option>
            <option value="containerMemory:desc">Most memory</option>
          </select>
        </InlineField>
        <div className="toolbar-end">
          <ColumnChooser hidden={hidden} onToggle={toggleColumn} />
          <RefreshButton onClick={list.reload} busy={list.loading} label="Refresh the list" />
        </div>
      </div>
      <div className="toolbar toolbar-filters" role="group" aria-label="More filters">
        <InlineField label="Metadata key">
          <input
            value={filters.metadataKey}
            onChange={(e) => setFilter({ metadataKey: e.target.value })}
            placeholder="team"
            autoComplete="off"
            spellCheck={false}
            maxLength={80}
            aria-invalid={!!problems.metadataKey}
            className="mono"
          />
        </InlineField>
        <InlineField label="Metadata value">
          <input
            value={filters.metadataValue}
            onChange={(e) => setFilter({ metadataValue: e.target.value })}
            placeholder="any"
            autoComplete="off"
            spellCheck={false}
            maxLength={256}
            aria-invalid={!!problems.metadataValue}
          />
        </InlineField>
        <InlineField label="Created by">
          <input
            value={filters.createdBy}
            onChange={(e) => setFilter({ createdBy: e.target.value })}
            placeholder="username"
            autoComplete="off"
            spellCheck={false}
            maxLength={128}
          />
        </InlineField>
        <label className="check" title="The models whose deployment you changed last: started, deployed or rolled back">
          <input type="checkbox" checked={filters.deployedByMe} onChange={(e) => setFilter({ deployedByMe: e.target.checked })} />
          Deployed by me
        </label>
      </div>
      {(problems.metadataKey || problems.metadataValue) && (
        <p className="field-error" role="alert" data-testid="filter-problem">
          {problems.metadataKey ? `Metadata key: ${problems.metadataKey}` : problems.metadataValue} Not applied.
        </p>
      )}
      {quotaError && <QuotaBanner error={quotaError.error} project={quotaError.project} onDismiss={() => setQuotaError(null)} />}
      {polling && (
        <p className="muted small" aria-live="polite">
          Some models are changing state; this list refreshes every {POLL_MS / 1000} seconds.
        </p>
      )}

      {list.error && !items ? (
        <ErrorState error={list.error} title="Could not load the models" onRetry={list.reload} />
      ) : !items ? (
        <Loading label="Loading models…" />
      ) : items.length === 0 ? (
        further ? (
          <Empty title={filtered ? "No match among the models read so far" : "No models on this page"}>
            <p>The server reads a bounded number of models per request and stopped before finding one; more may come further on.</p>
            <button type="button" className="btn btn-primary" onClick={() => setTokens((t) => [...t, further])}>
              Search further
            </button>
          </Empty>
        ) : filtered ? (
          <Empty title="No models match">
            <p>Nothing matches these filters{tokens.length > 1 ? " on this page" : ""}.</p>
            <button type="button" className="btn" onClick={() => setFilters(NO_FILTERS)}>
              Clear filters
            </button>
          </Empty>
        ) : tokens.length > 1 ? (
          <Empty title="No more models" />
        ) : (
          <Empty title={project ? `No models in ${project} yet` : "No models yet"}>
            <p>Add a model from a container image or a trained artifact (joblib, pickle, ONNX or Python).</p>
            {!addDenied && (
              <a className="btn btn-primary" href={href({ page: "create" })}>
                Add your first model
              </a>
            )}
          </Empty>
        )
      ) : (
        <>
          {list.error !== undefined && <ErrorState error={list.error} title="The last refresh failed" onRetry={list.reload} />}
          <div className="table-wrap">
            <table className="table table-models">
              <caption className="visually-hidden">
                Models, sorted by {sort.key} {sort.dir === "asc" ? "ascending" : "descending"}
              </caption>
              <thead>
                <tr>
                  <SortHeader label="Name" sortKey="name" sort={sort} onSort={sortBy} />
                  {visible.map((c) =>
                    c.sort ? (
                      <SortHeader key={c.id} label={c.label} sortKey={c.sort} sort={sort} onSort={sortBy} />
                    ) : (
                      <th key={c.id} scope="col">
                        {c.label}
                      </th>
                    ),
                  )}
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {sorted.map((m) => (
                  <tr key={m.id} data-model-name={m.name}>
                    <th scope="row" className="cell-name">
                      <a href={href({ page: "detail", id: m.id, tab: "operations" })}>{m.name}</a>
                      <CopyButton text={m.id} label={`Copy the id of ${m.name}`} className="btn btn-tiny" />
                      <MetadataHover model={m} />
                    </th>
                    {visible.map((c) => (
                      <td key={c.id} data-label={c.label} className={`cell-${c.id}`}>
                        {cell(m, c.id)}
                      </td>
                    ))}
                    <td className="cell-actions">
                      {mayRun(m) && canStart(m) && (
                        <button
                          type="button"
                          className="btn btn-small"
                          disabled={busy[m.id] || !!startBlocker(m)}
                          title={startBlocker(m) ?? undefined}
                          onClick={() => act(m, "start")}
                          aria-label={`Start ${m.name}`}
                        >
                          Start
                        </button>
                      )}
                      {mayRun(m) && canStop(m) && (
                        <button
                          type="button"
                          className="btn btn-small"
                          disabled={busy[m.id]}
                          onClick={() => setStopping(m)}
                          aria-label={`Stop ${m.name}`}
                        >
                          Stop
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}

      {items && (items.length > 0 || tokens.length > 1) && (
        <nav className="pager" aria-label="Pages">
          <button type="button" className="btn" disabled={tokens.length <= 1} onClick={() => setTokens((t) => t.slice(0, -1))}>
            Previous
          </button>
          <span className="muted">Page {tokens.length}</span>
          <button
            type="button"
            className="btn"
            disabled={!list.data?.nextToken}
            onClick={() => setTokens((t) => [...t, list.data?.nextToken ?? null])}
          >
            Next
          </button>
          <InlineField label="Per page">
            <select value={pageSize} onChange={(e) => setPageSize(Number(e.target.value))}>
              {[10, 25, 50, 100].map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </InlineField>
        </nav>
      )}

      <ConfirmDialog
        open={!!stopping}
        title={`Stop ${stopping?.name ?? ""}?`}
        confirmLabel="Stop model"
        onClose={() => setStopping(null)}
        onConfirm={() => {
          const m = stopping;
          setStopping(null);
          if (m) void act(m, "stop");
        }}
      >
        <p>The model's container stops and predictions to it fail until it is started again.</p>
      </ConfirmDialog>
    </section>
  );
}

/** A model's metadata in a hover card, from a small tag count next to its name. */
function MetadataHover({ model }: { model: Model }) {
  const count = Object.keys(model.metadata ?? {}).length;
  if (count === 0) return null;
  return (
    <HoverCard
      label={`Metadata of ${model.name}`}
      trigger={
        <span className="tag-count" aria-hidden="true">
          {count} {count === 1 ? "tag" : "tags"}
        </span>
      }
    >
      <MetadataTags metadata={model.metadata} />
    </HoverCard>
  );
}

function cell(m: Model, id: ColumnId) {
  switch (id) {
    case "project":
      return <span className="tag">{m.project}</span>;
    case "version":
      return m.version;
    case "cpu":
      return formatCpu(m.containerCpu);
    case "memory":
      return formatMemory(m.containerMemory);
    case "port":
      return m.containerPort;
    case "source":
      return (
        <span className="mono ellipsis" title={modelSource(m)}>
          {modelSource(m)}
        </span>
      );
    case "status":
      return <StatusBadge status={m.status} reason={m.statusReason} />;
    case "createdBy":
      return m.createdBy;
    case "createdAt":
      return <Time iso={m.createdAt} />;
    case "updatedAt":
      return <Time iso={m.updatedAt} />;
  }
}

function SortHeader({
  label,
  sortKey,
  sort,
  onSort,
}: {
  label: string;
  sortKey: SortKey;
  sort: { key: SortKey; dir: SortDir };
  onSort: (k: SortKey) => void;
}) {
  const active = sort.key === sortKey;
  return (
    <th scope="col" aria-sort={active ? (sort.dir === "asc" ? "ascending" : "descending") : "none"}>
      <button type="button" className="th-sort" onClick={() => onSort(sortKey)}>
        {label}
        <span aria-hidden="true" className="sort-mark">
          {active ? (sort.dir === "asc" ? "▲" : "▼") : ""}
        </span>
      </button>
    </th>
  );
}

function ColumnChooser({ hidden, onToggle }: { hidden: Set<ColumnId>; onToggle: (id: ColumnId) => void }) {
  return (
    <details
      className="menu"
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          const details = e.currentTarget;
          details.open = false;
          details.querySelector("summary")?.focus();
        }
      }}
    >
      <summary className="btn">Columns</summary>
      <fieldset className="menu-panel">
        <legend className="visually-hidden">Columns to show</legend>
        {COLUMNS.map((c) => (
          <label key={c.id} className="check">
            <input type="checkbox" checked={!hidden.has(c.id)} onChange={() => onToggle(c.id)} />
            {c.label}
          </label>
        ))}
      </fieldset>
    </details>
  );
}

/** The stage's own cost while no model runs: its network and edge, itemised. */
export function stageCostText(cost: StageCost): string {
  const prefix = cost.local ? "Deployed with the stack's defaults, this stage would cost" : "This stage costs";
  const items = cost.items.map((i) => `${i.what} ${formatUsd(i.monthly)}`).join(", ");
  return `${prefix} ${formatUsd(cost.monthly)}/month with no model running${items ? ` (${items})` : ""}, before requests, storage and logs.`;
}

function StageCostLine({ cost }: { cost: StageCost }) {
  return (
    <p className="muted small" data-testid="stage-cost" title={`${cost.currency}, prices of ${cost.pricesAsOf} for ${cost.pricedAs}`}>
      {stageCostText(cost)}
      {cost.local && " Local mode itself costs nothing."}
    </p>
  );
}
