/**
 * Client tokens of one model (admins only): create one by name — its token is shown once, in a
 * dialog with a copy button — list them with when they were created and last used, and revoke one
 * after a confirmation. Programs call a private model's endpoint with `curl -u <name>:<token>`.
 */
import { useState } from "react";
import type { CreatedClientToken, Model } from "../../api/types";
import { useApi, useNotify } from "../../context";
import { useAsync } from "../../hooks/useAsync";
import { useRoleIn } from "../../auth/user";
import { deniedReason } from "../../auth/roles";
import { CopyButton } from "../../components/CopyButton";
import { TableHead } from "../../components/TableHead";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { Dialog } from "../../components/Dialog";
import { RefreshButton } from "../../components/RefreshButton";
import { Empty, ErrorState, InlineError, Loading, errorText } from "../../components/States";
import { Time } from "../../components/Time";
import { validateClientName } from "../../lib/validation";
import type { ExampleCredentials } from "./RunExample";

export default function ClientsTab({
  model,
  onCreated,
  onRevoked,
}: {
  model: Model;
  onCreated: (credentials: ExampleCredentials) => void;
  onRevoked: (name: string) => void;
}) {
  const denied = deniedReason(useRoleIn(model.project), "clients", model.project);
  if (denied) return <Empty title="Client tokens are for admins">{<p>{denied}</p>}</Empty>;
  return <Clients model={model} onCreated={onCreated} onRevoked={onRevoked} />;
}

function Clients({
  model,
  onCreated,
  onRevoked,
}: {
  model: Model;
  onCreated: (credentials: ExampleCredentials) => void;
  onRevoked: (name: string) => void;
}) {
  const api = useApi();
  const notify = useNotify();
  const list = useAsync((signal) => api.listClients(model.id, signal), [api, model.id]);
  const [name, setName] = useState("");
  const [nameError, setNameError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [createError, setCreateError] = useState<unknown>(null);
  const [created, setCreated] = useState<CreatedClientToken | null>(null);
  const [revoking, setRevoking] = useState<string | null>(null);
  const [revokeBusy, setRevokeBusy] = useState(false);
  const [revokeError, setRevokeError] = useState<unknown>(null);

  const create = async () => {
    const invalid = validateClientName(name.trim());
    setNameError(invalid);
    setCreateError(null);
    if (invalid) {
      document.getElementById("client-name")?.focus();
      return;
    }
    setCreating(true);
    try {
      const token = await api.createClient(model.id, name.trim());
      setCreated(token);
      setName("");
      onCreated({ name: token.name, token: token.token });
      list.reload();
    } catch (err) {
      setCreateError(err);
    } finally {
      setCreating(false);
    }
  };

  const revoke = async (client: string) => {
    setRevokeBusy(true);
    setRevokeError(null);
    try {
      await api.revokeClient(model.id, client);
      setRevoking(null);
      onRevoked(client);
      notify(`Revoked ${client}. Calls with its token stop working within a minute.`);
      list.reload();
    } catch (err) {
      setRevokeError(err);
    } finally {
      setRevokeBusy(false);
    }
  };

  const items = list.data?.items ?? [];
  return (
    <div className="clients" data-testid="clients-panel">
      <p className="muted">
        Client tokens let programs call this model's endpoint{" "}
        {model.endpointVisibility === "public" ? "(it is public now, so calls need no token)" : "(it is private)"} with{" "}
        <code>curl -u &lt;name&gt;:&lt;token&gt;</code> or <code>Authorization: Bearer &lt;token&gt;</code>.
      </p>
      <form
        className="client-create"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <div className="field">
          <label htmlFor="client-name" className="label">
            New client name
          </label>
          <input
            id="client-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            autoComplete="off"
            spellCheck={false}
            maxLength={80}
            placeholder="billing-service"
            aria-invalid={!!nameError}
            aria-describedby={nameError ? "client-name-error" : "client-name-hint"}
          />
          {nameError ? (
            <p id="client-name-error" className="field-error">
              {nameError}
            </p>
          ) : (
            <p id="client-name-hint" className="hint">
              1–64 characters: lowercase letters, digits, - and _.
            </p>
          )}
        </div>
        <button type="submit" className="btn btn-primary" disabled={creating}>
          {creating ? "Creating…" : "Create token"}
        </button>
      </form>
      {createError !== null && <InlineError>{errorText(createError)}</InlineError>}

      <div className="clients-list-header">
        <h3>Clients</h3>
        <RefreshButton onClick={list.reload} busy={list.loading} label="Refresh the clients" />
      </div>
      {list.error !== undefined && !list.data ? (
        <ErrorState error={list.error} title="Could not load the clients" onRetry={list.reload} />
      ) : !list.data ? (
        <Loading label="Loading the clients…" />
      ) : items.length === 0 ? (
        <Empty title="No client tokens yet" />
      ) : (
        <div className="table-wrap">
          <table className="table">
            <TableHead columns={["Name", "Created", "Last used"]} actions="Actions" />
            <tbody>
              {items.map((c) => (
                <tr key={c.name} data-client-name={c.name}>
                  <th scope="row" className="mono">
                    {c.name}
                  </th>
                  <td>
                    <Time iso={c.createdAt} />
                  </td>
                  <td>{c.lastUsedAt ? <Time iso={c.lastUsedAt} /> : <span className="muted">Never</span>}</td>
                  <td className="cell-actions">
                    <button
                      type="button"
                      className="btn btn-small btn-danger-outline"
                      aria-label={`Revoke ${c.name}`}
                      onClick={() => setRevoking(c.name)}
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <Dialog open={created !== null} title={`Token for ${created?.name ?? ""}`} onClose={() => setCreated(null)} wide>
        {created && (
          <>
            <p className="banner banner-warning" role="alert">
              <strong>Copy this token now.</strong> It is shown only once: nobody can see it again, not even an admin. If it is lost, revoke
              the client and create a new one.
            </p>
            <div className="code-header">
              <span className="muted small">Token</span>
              <CopyButton text={created.token} label="Copy the token" />
            </div>
            <pre className="code-block break" data-testid="client-token">
              {created.token}
            </pre>
            <p className="small">
              Use it as <code>curl -u {created.name}:&lt;token&gt;</code> or <code>Authorization: Bearer &lt;token&gt;</code>. The example
              on this page uses it until you leave the page.
            </p>
            <div className="dialog-actions">
              <button type="button" className="btn btn-primary" data-autofocus onClick={() => setCreated(null)}>
                I have copied it
              </button>
            </div>
          </>
        )}
      </Dialog>

      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke ${revoking ?? ""}?`}
        confirmLabel="Revoke token"
        busyLabel="Revoking…"
        busy={revokeBusy}
        onClose={() => {
          setRevoking(null);
          setRevokeError(null);
        }}
        onConfirm={() => revoking && void revoke(revoking)}
      >
        <p>Programs using this token lose access to {model.name} (within a minute, as the server caches tokens briefly).</p>
        {revokeError !== null && <InlineError>{errorText(revokeError)}</InlineError>}
      </ConfirmDialog>
    </div>
  );
}
