/**
 * The model's versions, newest first: notes and metadata, what each runs (format or image), its file (size and
 * short sha256), who made it and when, whether it serves and with what weight, and its status.
 * "New version" takes notes, metadata and optional code settings, then (for runner models) the version's file
 * with a progress bar; a version without a file yet can get it later. Delete asks first and is
 * disabled, with the reason, while the version serves.
 */
import { useState } from "react";
import { ApiError } from "../../api/client";
import { ARTIFACT_FORMATS, type Model, type ModelVersion, type VersionCreate } from "../../api/types";
import { useApi, useNotify } from "../../context";
import { useRoleIn } from "../../auth/user";
import { deniedReason } from "../../auth/roles";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { TableHead } from "../../components/TableHead";
import { Dialog } from "../../components/Dialog";
import { FileUpload } from "../../components/FileUpload";
import { DeniedButton } from "../../components/Guarded";
import { Empty, InlineError, errorText } from "../../components/States";
import { StatusBadge } from "../../components/StatusBadge";
import { Time } from "../../components/Time";
import { formatBytes } from "../../lib/format";
import { shortSha } from "../../lib/deployments";
import { Field, MetadataRowsEditor } from "../model-form/fields";
import { MetadataTags } from "../../components/MetadataTags";
import { hasMetadataErrors, metadataErrorsFromApi, metadataObject, validateMetadata, type MetadataRow } from "../../lib/metadata";

export function VersionsTab({ model, onChanged }: { model: Model; onChanged: () => void }) {
  const api = useApi();
  const notify = useNotify();
  const role = useRoleIn(model.project);
  const createDenied = deniedReason(role, "upload", model.project);
  const deleteDenied = deniedReason(role, "delete", model.project);
  const [creating, setCreating] = useState(false);
  const [uploadFor, setUploadFor] = useState<ModelVersion | null>(null);
  const [deleting, setDeleting] = useState<ModelVersion | null>(null);
  const [busy, setBusy] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const versions = [...model.versions].sort((a, b) => b.number - a.number);
  const weights = new Map(model.deployment.map((d) => [d.version, d]));

  const remove = async (v: ModelVersion) => {
    setBusy(true);
    setDeleteError(null);
    try {
      await api.deleteVersion(model.id, v.number);
      notify(`Deleted version ${v.number}.`);
      setDeleting(null);
      onChanged();
    } catch (err) {
      setDeleteError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="tab-content" data-testid="versions-panel">
      <div className="toolbar">
        {createDenied ? (
          <DeniedButton className="btn btn-primary" reason={createDenied}>
            New version
          </DeniedButton>
        ) : (
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            New version
          </button>
        )}
        <span className="muted small">A version's file cannot change once uploaded: a new file is a new version.</span>
      </div>
      {versions.length === 0 ? (
        <Empty title="No versions yet">
          <p>Upload the model file (or create a version) to get version 1.</p>
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table table-cards">
            <TableHead columns={["Version", "Notes", "Runs", "File", "Created", "Serving", "Status"]} actions="Actions" />
            <tbody>
              {versions.map((v) => {
                const d = weights.get(v.number);
                const needsFile = !!v.artifactFormat && !v.artifact;
                return (
                  <tr key={v.number} data-version={v.number}>
                    <th scope="row" data-label="Version">
                      v{v.number}
                    </th>
                    <td data-label="Notes" className="cell-wrap">
                      {v.notes || (Object.keys(v.metadata ?? {}).length ? null : <span className="muted">—</span>)}
                      <MetadataTags metadata={v.metadata} testId={`version-metadata-${v.number}`} />
                    </td>
                    <td data-label="Runs" className="mono break">
                      {v.dockerImage ?? v.artifactFormat}
                    </td>
                    <td data-label="File">
                      {v.artifact ? (
                        <>
                          {formatBytes(v.artifact.size)}{" "}
                          {v.artifact.sha256 && (
                            <code className="small" title={`sha256 ${v.artifact.sha256}`}>
                              {shortSha(v.artifact.sha256)}
                            </code>
                          )}
                          {v.artifactOf !== null && v.artifactOf !== v.number && (
                            <span className="muted small"> (v{v.artifactOf}'s file)</span>
                          )}
                        </>
                      ) : v.dockerImage ? (
                        <span className="muted">image</span>
                      ) : (
                        <span className="muted">{v.artifactPendingSince ? "upload in progress" : "no file yet"}</span>
                      )}
                    </td>
                    <td data-label="Created">
                      <Time iso={v.createdAt} /> <span className="muted small">by {v.createdBy}</span>
                    </td>
                    <td data-label="Serving">
                      {v.serving || d ? (
                        <span className="badge badge-running" data-testid={`serving-${v.number}`}>
                          {v.serving ? "serving" : "deployed"} {d ? `${d.weight}%` : ""}
                        </span>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td data-label="Status">
                      <StatusBadge status={v.status} />
                    </td>
                    <td className="cell-actions">
                      {needsFile &&
                        (createDenied ? (
                          <DeniedButton className="btn btn-small" reason={createDenied}>
                            Upload file
                          </DeniedButton>
                        ) : (
                          <button
                            type="button"
                            className="btn btn-small"
                            aria-label={`Upload the file of version ${v.number}`}
                            onClick={() => setUploadFor(v)}
                          >
                            Upload file
                          </button>
                        ))}
                      {deleteDenied || v.serving || d ? (
                        <DeniedButton
                          className="btn btn-small btn-danger-outline"
                          reason={deleteDenied ?? `Version ${v.number} is in the deployment: deploy without it first, then delete it.`}
                        >
                          Delete
                        </DeniedButton>
                      ) : (
                        <button
                          type="button"
                          className="btn btn-small btn-danger-outline"
                          aria-label={`Delete version ${v.number}`}
                          onClick={() => {
                            setDeleteError(null);
                            setDeleting(v);
                          }}
                        >
                          Delete
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      {creating && <NewVersionDialog model={model} onClose={() => setCreating(false)} onCreated={() => onChanged()} />}
      {uploadFor && (
        <Dialog open title={`File of version ${uploadFor.number}`} onClose={() => setUploadFor(null)}>
          <VersionFile
            model={model}
            version={uploadFor}
            onUploaded={() => {
              setUploadFor(null);
              onChanged();
            }}
          />
        </Dialog>
      )}
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete version ${deleting?.number ?? ""}?`}
        confirmLabel="Delete version"
        busyLabel="Deleting…"
        busy={busy}
        onClose={() => setDeleting(null)}
        onConfirm={() => deleting && void remove(deleting)}
      >
        <p>The version and its file are removed; history entries that deployed it can no longer be rolled back to.</p>
        {deleteError !== null && (
          <InlineError>
            {deleteError instanceof ApiError && deleteError.isConflict
              ? `${deleteError.message} Take it out of the deployment first.`
              : errorText(deleteError)}
          </InlineError>
        )}
      </ConfirmDialog>
    </div>
  );
}

function VersionFile({ model, version, onUploaded }: { model: Model; version: ModelVersion; onUploaded: () => void }) {
  const api = useApi();
  return (
    <FileUpload
      label={`Choose the file of version ${version.number} (${version.artifactFormat})`}
      format={version.artifactFormat}
      requestTicket={() => api.requestVersionUpload(model.id, version.number)}
      onUploaded={onUploaded}
    />
  );
}

/** Notes and the settings that differ from the model's; then, for a runner version, its file. */
function NewVersionDialog({ model, onClose, onCreated }: { model: Model; onClose: () => void; onCreated: () => void }) {
  const api = useApi();
  const notify = useNotify();
  const [notes, setNotes] = useState("");
  const [format, setFormat] = useState("");
  const [image, setImage] = useState("");
  const [port, setPort] = useState("");
  const [predictPath, setPredictPath] = useState("");
  const [healthPath, setHealthPath] = useState("");
  const [metadata, setMetadata] = useState<MetadataRow[]>([]);
  const [submitted, setSubmitted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<ModelVersion | null>(null);
  const fieldError = (name: string) =>
    error instanceof ApiError ? error.details.find((d) => d.field === name || d.field.startsWith(`${name}.`))?.message : undefined;
  // Keys are checked as typed; a value without its key once the user has tried to create the version.
  const metadataChecked = validateMetadata(metadata, { complete: submitted });
  const metadataFromApi = metadataErrorsFromApi(error instanceof ApiError ? error.details : [], metadata);
  const metadataRowErrors = { ...metadataFromApi.rows, ...metadataChecked.rows };

  const submit = async () => {
    setSubmitted(true);
    if (hasMetadataErrors(validateMetadata(metadata, { complete: true }))) return;
    setBusy(true);
    setError(null);
    const body: VersionCreate = { notes: notes.trim() };
    const entries = metadataObject(metadata);
    if (Object.keys(entries).length) body.metadata = entries;
    if (model.dockerImage && image.trim()) body.dockerImage = image.trim();
    if (model.artifactFormat && format) body.artifactFormat = format as VersionCreate["artifactFormat"];
    if (port.trim()) body.containerPort = Number(port);
    if (predictPath.trim()) body.predictPath = predictPath.trim();
    if (healthPath.trim()) body.healthPath = healthPath.trim();
    try {
      const v = await api.createVersion(model.id, body);
      notify(`Created version ${v.number}.`);
      onCreated();
      if (v.artifactFormat && !v.artifact) setCreated(v);
      else onClose();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    return (
      <Dialog open title={`Upload the file of version ${created.number}`} onClose={onClose}>
        <p>
          Version {created.number} ({created.artifactFormat}) needs its file before it can be deployed.
        </p>
        <VersionFile
          model={model}
          version={created}
          onUploaded={() => {
            onCreated();
            onClose();
          }}
        />
      </Dialog>
    );
  }

  return (
    <Dialog
      open
      title="New version"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="new-version-form" className="btn btn-primary" disabled={busy}>
            {busy ? "Creating…" : "Create version"}
          </button>
        </>
      }
    >
      <form
        id="new-version-form"
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!busy) void submit();
        }}
      >
        <Field label="Notes" optional error={fieldError("notes")}>
          {(p) => <textarea {...p} rows={3} value={notes} onChange={(e) => setNotes(e.target.value)} data-autofocus />}
        </Field>
        <MetadataRowsEditor
          rows={metadata}
          rowErrors={metadataRowErrors}
          general={metadataChecked.general ?? metadataFromApi.general}
          onChange={(rows) => {
            setMetadata(rows);
            if (error instanceof ApiError) setError(null);
          }}
        />
        <p className="muted small">Settings left empty are copied from the model.</p>
        {model.artifactFormat ? (
          <Field label="Artifact format" optional error={fieldError("artifactFormat")} hint={`The model's: ${model.artifactFormat}`}>
            {(p) => (
              <select {...p} value={format} onChange={(e) => setFormat(e.target.value)}>
                <option value="">as the model ({model.artifactFormat})</option>
                {ARTIFACT_FORMATS.map((f) => (
                  <option key={f} value={f}>
                    {f}
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : (
          <Field label="Image" optional error={fieldError("dockerImage")} hint={`The model's: ${model.dockerImage ?? ""}`}>
            {(p) => <input {...p} value={image} onChange={(e) => setImage(e.target.value)} spellCheck={false} />}
          </Field>
        )}
        <div className="grid-3">
          <Field label="Port" optional error={fieldError("containerPort")} hint={`Now ${model.containerPort}`}>
            {(p) => <input {...p} inputMode="numeric" value={port} onChange={(e) => setPort(e.target.value)} />}
          </Field>
          <Field label="Predict path" optional error={fieldError("predictPath")} hint={`Now ${model.predictPath}`}>
            {(p) => <input {...p} value={predictPath} onChange={(e) => setPredictPath(e.target.value)} spellCheck={false} />}
          </Field>
          <Field label="Health path" optional error={fieldError("healthPath")} hint={`Now ${model.healthPath}`}>
            {(p) => <input {...p} value={healthPath} onChange={(e) => setHealthPath(e.target.value)} spellCheck={false} />}
          </Field>
        </div>
        {error !== null && <InlineError>{errorText(error)}</InlineError>}
      </form>
    </Dialog>
  );
}
