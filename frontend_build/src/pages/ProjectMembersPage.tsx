/**
 * One project: its quota with what its models use (QuotaPanel: the stage's admins change it), and its members. The project's admins (and the stage's) add a member by username or e-mail
 * address with a role (the API's 404 for no such user is shown on the field), change a member's role in
 * the row, and remove a member after a confirmation. Everyone else sees the list read-only. A change of
 * the user's own membership reloads their roles, so the console's controls follow at once.
 */
import { useState } from "react";
import { ApiError } from "../api/client";
import { DEFAULT_PROJECT, PROJECT_ROLES, type ProjectMember, type ProjectRoleName } from "../api/types";
import { useApi, useNotify } from "../context";
import { useAsync } from "../hooks/useAsync";
import { useProjects } from "../projects";
import { useUser } from "../auth/user";
import { can, deniedReason } from "../auth/roles";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { TableHead } from "../components/TableHead";
import { PageTitle } from "../components/PageTitle";
import { RefreshButton } from "../components/RefreshButton";
import { Empty, ErrorState, InlineError, Loading, errorText } from "../components/States";
import { Time } from "../components/Time";
import { sentence } from "../lib/format";
import { href, navigate } from "../lib/routes";
import { Field } from "./model-form/fields";
import { QuotaPanel } from "./QuotaPanel";

const ROLE_HINTS: Record<ProjectRoleName, string> = {
  viewer: "sees the project's models and their activity",
  editor: "also adds, changes, starts, stops and deploys them",
  admin: "also manages the project's members and client tokens",
};

export function ProjectMembersPage({ name }: { name: string }) {
  const api = useApi();
  const notify = useNotify();
  const user = useUser();
  const scope = useProjects();
  const project = useAsync((signal) => api.getProject(name, signal), [api, name]);
  const members = useAsync((signal) => api.listMembers(name, signal), [api, name]);
  const [busy, setBusy] = useState<Record<string, boolean>>({});
  const [removing, setRemoving] = useState<ProjectMember | null>(null);
  const [removeBusy, setRemoveBusy] = useState(false);
  const [removeError, setRemoveError] = useState<unknown>(null);

  const breadcrumb = (
    <p className="breadcrumb">
      <a href={href({ page: "projects" })}>Projects</a> /
    </p>
  );
  if (project.error && !project.data) {
    const gone = project.error instanceof ApiError && project.error.isNotFound;
    return (
      <section className="page">
        {breadcrumb}
        <PageTitle>{gone ? "Project not found" : name}</PageTitle>
        <ErrorState
          error={project.error}
          title={gone ? "There is no such project, or you have no role in it" : "Could not load the project"}
          onRetry={gone ? undefined : project.reload}
        />
      </section>
    );
  }
  if (!project.data) return <Loading label="Loading the project…" />;
  const p = project.data;
  const mayManage = can(p.role, "members");
  const items = members.data?.items;

  /** After a change to the user's own membership: their roles, the switcher and this page's role. */
  const changedSelf = (username: string) => {
    if (username !== user.username) return;
    user.reload();
    scope.reload();
    project.reload();
  };

  const changeRole = async (member: ProjectMember, role: ProjectRoleName) => {
    setBusy((b) => ({ ...b, [member.username]: true }));
    try {
      const saved = await api.setMember(name, member.username, role);
      members.setData((old) => ({ items: (old?.items ?? []).map((m) => (m.username === saved.username ? saved : m)) }));
      notify(`${saved.username} is now ${saved.role} in ${name}.`);
      changedSelf(saved.username);
    } catch (err) {
      notify(`Could not change the role of ${member.username}: ${errorText(err)}`, "error");
      members.reload();
    } finally {
      setBusy((b) => ({ ...b, [member.username]: false }));
    }
  };

  const remove = async (member: ProjectMember) => {
    setRemoveBusy(true);
    setRemoveError(null);
    try {
      await api.removeMember(name, member.username);
      setRemoving(null);
      members.setData((old) => ({ items: (old?.items ?? []).filter((m) => m.username !== member.username) }));
      notify(`Removed ${member.username} from ${name}.`);
      changedSelf(member.username);
    } catch (err) {
      setRemoveError(err);
    } finally {
      setRemoveBusy(false);
    }
  };

  return (
    <section className="page">
      {breadcrumb}
      <div className="page-header">
        <PageTitle>{p.name}</PageTitle>
        <div className="actions">
          <button
            type="button"
            className="btn"
            onClick={() => {
              scope.select(p.name);
              navigate({ page: "list" });
            }}
          >
            Show its models
          </button>
          <RefreshButton onClick={members.reload} busy={members.loading} label="Refresh the members" />
        </div>
      </div>
      {p.description && <p className="prewrap">{p.description}</p>}
      <p className="muted small">
        Your role here: <span className="tag">{p.role}</span>
        {p.name !== DEFAULT_PROJECT && (
          <>
            {" "}
            · created <Time iso={p.createdAt} /> by {p.createdBy}
          </>
        )}
        . Stage-wide roles (the viewer, editor and admin groups) hold here too, on top of these memberships.
      </p>

      <QuotaPanel
        project={p}
        onSaved={(saved) => {
          project.setData(saved);
          scope.reload(); // the Projects page's list shows each quota too
        }}
      />

      {mayManage ? (
        <AddMember
          project={name}
          members={items ?? []}
          onSaved={(saved, added) => {
            members.setData((old) => {
              const rest = (old?.items ?? []).filter((m) => m.username !== saved.username);
              return { items: [...rest, saved].sort((a, b) => a.username.localeCompare(b.username)) };
            });
            notify(added ? `Added ${saved.username} to ${name} as ${saved.role}.` : `${saved.username} is now ${saved.role} in ${name}.`);
            changedSelf(saved.username);
          }}
        />
      ) : (
        <p className="banner banner-info" data-testid="members-read-only">
          {deniedReason(p.role, "members", p.name)}
        </p>
      )}

      <h2 className="section-title">Members</h2>
      {members.error !== undefined && !items ? (
        <ErrorState error={members.error} title="Could not load the members" onRetry={members.reload} />
      ) : !items ? (
        <Loading label="Loading the members…" />
      ) : items.length === 0 ? (
        <Empty title="No members yet">
          <p>Only the stage-wide roles hold here{mayManage ? ": add someone by their username or e-mail address." : "."}</p>
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table table-cards" data-testid="members-table">
            <caption className="visually-hidden">Members of {p.name}</caption>
            <TableHead columns={["Username", "Role", "Added"]} actions={mayManage ? "Actions" : undefined} />
            <tbody>
              {items.map((m) => (
                <tr key={m.username} data-member={m.username}>
                  <th scope="row" className="cell-name">
                    {m.username}
                    {m.username === user.username && <span className="muted small"> (you)</span>}
                  </th>
                  <td data-label="Role">
                    {mayManage ? (
                      <select
                        aria-label={`Role of ${m.username}`}
                        value={m.role}
                        disabled={busy[m.username]}
                        onChange={(e) => void changeRole(m, e.target.value as ProjectRoleName)}
                      >
                        {PROJECT_ROLES.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    ) : (
                      <span className="tag">{m.role}</span>
                    )}
                  </td>
                  <td data-label="Added">
                    <span>
                      <Time iso={m.addedAt} /> by {m.addedBy}
                    </span>
                  </td>
                  {mayManage && (
                    <td className="cell-actions">
                      <button
                        type="button"
                        className="btn btn-small btn-danger-outline"
                        aria-label={`Remove ${m.username}`}
                        disabled={busy[m.username]}
                        onClick={() => {
                          setRemoveError(null);
                          setRemoving(m);
                        }}
                      >
                        Remove
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <ConfirmDialog
        open={removing !== null}
        title={`Remove ${removing?.username ?? ""} from ${name}?`}
        confirmLabel="Remove member"
        busyLabel="Removing…"
        busy={removeBusy}
        onClose={() => {
          setRemoving(null);
          setRemoveError(null);
        }}
        onConfirm={() => removing && void remove(removing)}
      >
        <p>They lose their role in this project; a stage-wide role they hold still applies.</p>
        {removing?.username === user.username && (
          <p className="banner banner-warning">This is you: you may lose access to this project's models.</p>
        )}
        {removeError !== null && <InlineError>{errorText(removeError)}</InlineError>}
      </ConfirmDialog>
    </section>
  );
}

/** The project admin's form: a username or e-mail address and a role; an existing member's role changes. */
function AddMember({
  project,
  members,
  onSaved,
}: {
  project: string;
  members: readonly ProjectMember[];
  onSaved: (member: ProjectMember, added: boolean) => void;
}) {
  const api = useApi();
  const [who, setWho] = useState("");
  const [role, setRole] = useState<ProjectRoleName>("viewer");
  const [error, setError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const focusWho = () => window.requestAnimationFrame(() => document.querySelector<HTMLElement>('[data-field="member"]')?.focus());

  const submit = async () => {
    const typed = who.trim();
    setError(null);
    setFormError(null);
    if (!typed) {
      setError("Enter a username or an e-mail address.");
      focusWho();
      return;
    }
    setBusy(true);
    try {
      const saved = await api.setMember(project, typed, role);
      setWho("");
      onSaved(saved, !members.some((m) => m.username === saved.username));
    } catch (err) {
      if (err instanceof ApiError && err.isNotFound) {
        setError(`There is no user with the username or e-mail address ${typed}.`);
        focusWho();
      } else if (err instanceof ApiError && err.isConflict) {
        setError(sentence(err.message));
        focusWho();
      } else {
        setFormError(errorText(err));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-labelledby="member-add-title">
      <h2 id="member-add-title">Add a member</h2>
      <form
        className="inline-form"
        noValidate
        aria-busy={busy}
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Field label="Username or e-mail" error={error ?? undefined} hint="Someone who can sign in to this console.">
          {(p) => (
            <input
              {...p}
              data-field="member"
              value={who}
              onChange={(e) => setWho(e.target.value)}
              autoComplete="off"
              spellCheck={false}
              maxLength={128}
              placeholder="dana or dana@example.com"
            />
          )}
        </Field>
        <Field label="Role" hint={ROLE_HINTS[role]}>
          {(p) => (
            <select {...p} value={role} onChange={(e) => setRole(e.target.value as ProjectRoleName)}>
              {PROJECT_ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Adding…" : "Add member"}
        </button>
      </form>
      {formError && <InlineError>{formError}</InlineError>}
    </section>
  );
}
