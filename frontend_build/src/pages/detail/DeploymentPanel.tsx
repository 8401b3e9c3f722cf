/**
 * What serves the model now, per version: its status and reason, healthy replicas of replicas, and
 * the share of traffic it gets now next to its target, so a switch in progress shows (the old
 * deployment keeps serving until every new version is healthy; versions leaving show target 0%), the runner's
 * library versions and load warnings of each; and the banner of a serving version's load warnings.
 */
import type { DeployedVersion, Model } from "../../api/types";
import { StatusBadge } from "../../components/StatusBadge";
import { TableHead } from "../../components/TableHead";
import { DeniedButton } from "../../components/Guarded";
import { formatCpu, formatMemory } from "../../lib/format";
import { libraryList, replicaSummary, servingLoadWarnings, switching } from "../../lib/deployments";

export function DeploymentPanel({
  model,
  denied,
  onDeploy,
}: {
  model: Model;
  /** Why the user may not change the deployment, or null. */
  denied: string | null;
  onDeploy: (promoteVersion?: number) => void;
}) {
  const lines = model.deployment;
  const moving = switching(lines);
  return (
    <section className="panel" aria-labelledby="deployment-title" data-testid="deployment-panel">
      <div className="panel-header">
        <h2 id="deployment-title">Deployment</h2>
        {denied ? (
          <DeniedButton className="btn btn-small" reason={denied}>
            Deploy…
          </DeniedButton>
        ) : (
          <button type="button" className="btn btn-small" onClick={() => onDeploy()}>
            Deploy…
          </button>
        )}
      </div>
      {lines.length === 0 ? (
        <p className="muted">Nothing deployed yet.</p>
      ) : (
        <>
          {moving && model.status !== "STOPPED" && (
            <p className="banner banner-info" data-testid="switching">
              Switching: the new versions get their traffic once all their replicas are healthy; until then the previous deployment keeps
              serving.
            </p>
          )}
          <div className="table-wrap">
            <table className="table table-cards">
              <TableHead
                columns={["Version", "Status", "Healthy replicas", "Traffic now", "Target", "Size", "Libraries"]}
                actions="Actions"
              />
              <tbody>
                {lines.map((d) => (
                  <tr key={d.version} data-deployed-version={d.version}>
                    <th scope="row" data-label="Version">
                      v{d.version}
                    </th>
                    <td data-label="Status" className="cell-wrap">
                      <StatusBadge status={d.status} reason={d.statusReason} />
                      {d.statusReason && d.status !== "FAILED" && d.status !== "STOPPED" && (
                        <span className="muted small"> {d.statusReason}</span>
                      )}
                      {d.statusReason && (d.status === "FAILED" || d.status === "STOPPED") && <div className="small">{d.statusReason}</div>}
                    </td>
                    <td data-label="Healthy replicas" data-testid={`replicas-${d.version}`}>
                      {replicaSummary(d)}
                    </td>
                    <td data-label="Traffic now" data-testid={`serving-weight-${d.version}`}>
                      {d.servingWeight}%
                    </td>
                    <td data-label="Target" data-testid={`target-weight-${d.version}`}>
                      {d.weight}%{d.leaving && <span className="muted small"> (leaving)</span>}
                      {d.weight !== d.servingWeight && <span className="muted small"> (switching)</span>}
                      {d.shadow && (
                        <span className="tag" title="Gets a copy of this share of the requests; its answers are compared, never returned">
                          {" "}
                          shadow {d.shadow.percent}%
                        </span>
                      )}
                    </td>
                    <td data-label="Size">
                      {formatCpu(d.containerCpu)}, {formatMemory(d.containerMemory)}
                      {d.spot && <span className="tag">Spot</span>}
                    </td>
                    <td data-label="Libraries" data-testid={`libraries-${d.version}`}>
                      <Libraries line={d} />
                    </td>
                    <td className="cell-actions">
                      {d.weight > 0 && d.weight < 100 && !denied && (
                        <button
                          type="button"
                          className="btn btn-small"
                          aria-label={`Promote version ${d.version} to 100%`}
                          onClick={() => onDeploy(d.version)}
                        >
                          Promote to 100%
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
    </section>
  );
}

/** The runner's libraries of one version (as its first replica reported them), and its load warnings' count. */
function Libraries({ line }: { line: DeployedVersion }) {
  const libraries = libraryList(line.libraries);
  const warnings = line.loadWarnings?.length ?? 0;
  if (libraries.length === 0 && warnings === 0)
    return <span className="muted small">{line.status === "RUNNING" ? "not reported" : "—"}</span>;
  return (
    <>
      {warnings > 0 && (
        <span className="badge badge-pending" title={line.loadWarnings.join("\n")}>
          {warnings} load {warnings === 1 ? "warning" : "warnings"}
        </span>
      )}
      {libraries.length > 0 && (
        <details className="libraries">
          <summary>{libraries.length} libraries</summary>
          <ul className="plain-list mono small">
            {libraries.map(([name, version]) => (
              <li key={name}>
                {name} {version}
              </li>
            ))}
          </ul>
        </details>
      )}
    </>
  );
}

/**
 * Said under the model's header while a serving version's file loaded with warnings: the runner's words (a
 * scikit-learn InconsistentVersionWarning, say), since its predictions may not be what its trainer saw.
 */
export function LoadWarningsBanner({ model }: { model: Model }) {
  const found = servingLoadWarnings(model.deployment);
  if (found.length === 0) return null;
  return (
    <div className="banner banner-warning" role="status" data-testid="load-warnings">
      <p>
        <strong>
          {found.length === 1 ? `Version ${found[0]!.version}'s file` : `The files of versions ${found.map((f) => f.version).join(", ")}`}{" "}
          loaded with warnings:
        </strong>{" "}
        {found.length === 1
          ? "its predictions may differ from those it was trained to give."
          : "their predictions may differ from those they were trained to give."}
      </p>
      <ul className="load-warnings">
        {found.flatMap((f) =>
          f.warnings.map((w, i) => (
            <li key={`${f.version}-${i}`}>
              {found.length > 1 && <strong>v{f.version}: </strong>}
              <span className="mono">{w}</span>
            </li>
          )),
        )}
      </ul>
      <p className="small">
        Most often a file saved with other library versions than the runner's (Libraries, in the Deployment panel): save it again with
        those, or upload it as a new version made with them.
      </p>
    </div>
  );
}
