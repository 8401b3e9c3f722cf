/**
 * The projects the user sees, each with their role there. The stage's admins create a project (its name
 * checked as the API checks it; the API's 409 and 422 land on the same fields) and delete an empty one
 * after a confirmation (the API's 409 for one that still has models is shown in the dialog); a project's own
 * admins see Delete disabled, with the reason. Each project's quota in one line; a project's name leads to its
 * page (quota usage, members).
 */
import { useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { DEFAULT_PROJECT, type Project } from "../api/types";
import { useApi, useNotify } from "../context";
import { useProjects } from "../projects";
import { useUser } from "../auth/user";
import { can, stageDeniedReason } from "../auth/roles";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { TableHead } from "../components/TableHead";
import { DeniedButton } from "../components/Guarded";
import { PageTitle } from "../components/PageTitle";
import { RefreshButton } from "../components/RefreshButton";
import { Empty, ErrorState, InlineError, Loading, errorText } from "../components/States";
import { Time } from "../components/Time";
import { quotaSummary } from "../lib/quotas";
import { MAX_PROJECT_DESCRIPTION, PROJECT_NAME_RULE, validateProjectName } from "../lib/projects";
import { sentence } from "../lib/format";
import { href } from "../lib/routes";
import { Field } from "./model-form/fields";

const DEFAULT_UNDELETABLE = "The default project always exists: it holds the models made without naming a project.";

export function ProjectsPage() {
  const api = useApi();
  const notify = useNotify();
  const user = useUser();
  const scope = useProjects();
  const [deleting, setDeleting] = useState<Project | null>(null);
  const [deleteBusy, setDeleteBusy] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const mayCreate = can(user.roles.stage, "createProject");
  // Deleting is the stage's admins' (the API answers 403 to a project's own admins, who see why instead).
  const deleteDenied = (p: Project) => stageDeniedReason(user.roles, "deleteProject", p.name);
  const items = scope.projects;
  // The list was read when the console started: read it again on arrival, for projects made or changed since
  // (the rows shown meanwhile stay).
  const { reload } = scope;
  useEffect(() => reload(), [reload]);

  const changed = () => {
    scope.reload();
    user.reload();
  };

  const remove = async (project: Project) => {
    setDeleteBusy(true);
    setDeleteError(null);
    try {
      await api.deleteProject(project.name);
      setDeleting(null);
      if (scope.selected === project.name) scope.select(null);
      notify(`Deleted project ${project.name}.`);
      changed();
    } catch (err) {
      setDeleteError(err);
    } finally {
      setDeleteBusy(false);
    }
  };

  return (
    <section className="page">
      <div className="page-header">
        <PageTitle>Projects</PageTitle>
        <RefreshButton onClick={scope.reload} busy={scope.loading} label="Refresh the projects" />
      </div>
      <p className="muted">
        Every model is in one project. A project's members hold a role in it (viewer, editor or admin) on top of the stage-wide role of
        their group, which holds in every project.
      </p>

      {mayCreate && <CreateProject onCreated={changed} />}

      {scope.error !== undefined && !items ? (
        <ErrorState error={scope.error} title="Could not load the projects" onRetry={scope.reload} />
      ) : !items ? (
        <Loading label="Loading projects…" />
      ) : items.length === 0 ? (
        <Empty title="You are in no project yet">
          <p>Ask a project's admin to add you, or a stage admin to give you a role.</p>
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table table-cards" data-testid="projects-table">
            <caption className="visually-hidden">Projects you have a role in</caption>
            <TableHead columns={["Name", "Description", "Your role", "Quota", "Created"]} actions="Actions" />
            <tbody>
              {items.map((p) => (
                <tr key={p.name} data-project-name={p.name}>
                  <th scope="row" className="cell-name">
                    <a href={href({ page: "project", name: p.name })}>{p.name}</a>
                  </th>
                  <td data-label="Description" className="cell-wrap">
                    {p.description || <span className="muted">—</span>}
                  </td>
                  <td data-label="Your role">
                    <span className="tag" data-testid="project-role">
                      {p.role}
                    </span>
                  </td>
                  <td data-label="Quota" data-testid="project-quota">
                    {quotaSummary(p.quota)}
                  </td>
                  <td data-label="Created">
                    {p.name === DEFAULT_PROJECT ? (
                      <span className="muted">built in</span>
                    ) : (
                      <span>
                        <Time iso={p.createdAt} /> by {p.createdBy}
                      </span>
                    )}
                  </td>
                  <td className="cell-actions">
                    <a className="btn btn-small" href={href({ page: "project", name: p.name })} aria-label={`Members of ${p.name}`}>
                      Members
                    </a>
                    {can(p.role, "deleteProject") &&
                      (p.name === DEFAULT_PROJECT || deleteDenied(p) ? (
                        <DeniedButton className="btn btn-small btn-danger-outline" reason={deleteDenied(p) ?? DEFAULT_UNDELETABLE}>
                          Delete
                        </DeniedButton>
                      ) : (
                        <button
                          type="button"
                          className="btn btn-small btn-danger-outline"
                          aria-label={`Delete ${p.name}`}
                          onClick={() => {
                            setDeleteError(null);
                            setDeleting(p);
                          }}
                        >
                          Delete
                        </button>
                      ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <ConfirmDialog
        open={deleting !== null}
        title={`Delete project ${deleting?.name ?? ""}?`}
        confirmLabel="Delete project"
        busyLabel="Deleting…"
        busy={deleteBusy}
        onClose={() => {
          setDeleting(null);
          setDeleteError(null);
        }}
        onConfirm={() => deleting && void remove(deleting)}
      >
        <p>
          Its members lose their role in it. A project that still has models cannot be deleted: move them to another project or delete them
          first.
        </p>
        {deleteError !== null && (
          <InlineError>
            {deleteError instanceof ApiError && deleteError.isConflict
              ? `Not deleted. ${sentence(deleteError.message)}`
              : errorText(deleteError)}
          </InlineError>
        )}
      </ConfirmDialog>
    </section>
  );
}

/** Stage admins: a new project by name, with an optional description. */
function CreateProject({ onCreated }: { onCreated: () => void }) {
  const api = useApi();
  const notify = useNotify();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [errors, setErrors] = useState<{ name?: string; description?: string }>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const focus = (field: "name" | "description") =>
    window.requestAnimationFrame(() => document.querySelector<HTMLElement>(`[data-field="project-${field}"]`)?.focus());

  const submit = async () => {
    const trimmed = name.trim();
    const invalid = {
      name: validateProjectName(trimmed) ?? undefined,
      description: description.length > MAX_PROJECT_DESCRIPTION ? `Use at most ${MAX_PROJECT_DESCRIPTION} characters.` : undefined,
    };
    setErrors(invalid);
    setFormError(null);
    if (invalid.name || invalid.description) {
      focus(invalid.name ? "name" : "description");
      return;
    }
    setBusy(true);
    try {
      const created = await api.createProject(description.trim() ? { name: trimmed, description: description.trim() } : { name: trimmed });
      setName("");
      setDescription("");
      notify(`Created project ${created.name}.`);
      onCreated();
    } catch (err) {
      if (err instanceof ApiError && err.isConflict) {
        setErrors({ name: `${sentence(err.message)} Choose another name.` });
        focus("name");
      } else if (err instanceof ApiError && err.details.some((d) => d.field === "name" || d.field === "description")) {
        const placed: { name?: string; description?: string } = {};
        for (const d of err.details) if (d.field === "name" || d.field === "description") placed[d.field] = d.message;
        setErrors(placed);
        focus(placed.name ? "name" : "description");
      } else {
        setFormError(errorText(err));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel project-create" aria-labelledby="project-create-title">
      <h2 id="project-create-title">New project</h2>
      <form
        className="inline-form"
        noValidate
        aria-busy={busy}
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Field label="Name" error={errors.name} hint={PROJECT_NAME_RULE}>
          {(p) => (
            <input
              {...p}
              data-field="project-name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              autoComplete="off"
              spellCheck={false}
              maxLength={60}
              placeholder="fraud"
              required
            />
          )}
        </Field>
        <Field label="Description" error={errors.description} optional>
          {(p) => <input {...p} data-field="project-description" value={description} onChange={(e) => setDescription(e.target.value)} />}
        </Field>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Creating…" : "Create project"}
        </button>
      </form>
      {formError && <InlineError>{formError}</InlineError>}
    </section>
  );
}
