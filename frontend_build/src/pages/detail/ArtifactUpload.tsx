/** Upload of a trained model file through a presigned POST, with a progress bar and cancel. */
import { useRef, useState } from "react";
import type { ArtifactFormat, Model } from "../../api/types";
import { useApi, useNotify } from "../../context";
import { InlineError, errorText } from "../../components/States";
import { Time } from "../../components/Time";
import { formatBytes } from "../../lib/format";
import { useUser } from "../../auth/user";
import { deniedReason } from "../../auth/roles";
import { DeniedButton } from "../../components/Guarded";

const ACCEPT: Record<ArtifactFormat, string> = {
  joblib: ".joblib,.pkl,.gz",
  pickle: ".pkl,.pickle",
  onnx: ".onnx",
  python: ".py",
  xgboost: ".json,.ubj",
  lightgbm: ".txt",
  bundle: ".zip,.tar.gz,.tgz",
  mlflow: ".zip",
};

export function ArtifactUpload({ model, onUploaded }: { model: Model; onUploaded: () => void }) {
  const api = useApi();
  const notify = useNotify();
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<{ loaded: number; total: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const controller = useRef<AbortController | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const uploading = progress !== null;
  const denied = deniedReason(useUser().role, "upload");

  const upload = async () => {
    if (!file) return;
    setError(null);
    setProgress({ loaded: 0, total: file.size });
    controller.current = new AbortController();
    try {
      const presigned = await api.requestArtifactUpload(model.id);
      await api.postPresigned(presigned, file, setProgress, controller.current.signal);
      notify(`Uploaded ${file.name} (${formatBytes(file.size)}).`);
      setFile(null);
      if (input.current) input.current.value = "";
      onUploaded();
    } catch (err) {
      if (!(err instanceof DOMException && err.name === "AbortError")) setError(err);
    } finally {
      setProgress(null);
      controller.current = null;
    }
  };

  const percent = progress && progress.total > 0 ? Math.round((progress.loaded / progress.total) * 100) : 0;

  return (
    <section className="panel" aria-labelledby="artifact-title">
      <h2 id="artifact-title">Model file</h2>
      {model.artifact ? (
        <p>
          {formatBytes(model.artifact.size)} {model.artifactFormat} file, uploaded <Time iso={model.artifact.uploadedAt} />.
        </p>
      ) : (
        <p className="banner banner-info">No file uploaded yet: upload the trained model before starting it.</p>
      )}
      {denied ? (
        <DeniedButton reason={denied}>Upload a file</DeniedButton>
      ) : (
        <div className="upload">
          <label htmlFor="artifact-file" className="label">
            {model.artifact ? "Replace with a new file" : "Choose the file"} ({model.artifactFormat})
          </label>
          <input
            id="artifact-file"
            ref={input}
            type="file"
            accept={model.artifactFormat ? ACCEPT[model.artifactFormat] : ""}
            disabled={uploading}
            onChange={(e) => {
              setFile(e.target.files?.[0] ?? null);
              setError(null);
            }}
          />
          <div className="upload-actions">
            <button type="button" className="btn btn-primary" disabled={!file || uploading} onClick={upload}>
              Upload
            </button>
            {uploading && (
              <button type="button" className="btn" onClick={() => controller.current?.abort()}>
                Cancel
              </button>
            )}
          </div>
          {progress && (
            <div className="progress">
              <progress max={100} value={percent} aria-label="Upload progress" />
              <span className="small">
                {percent}% · {formatBytes(progress.loaded)} of {formatBytes(progress.total)}
              </span>
            </div>
          )}
          {error !== null && <InlineError>{errorText(error)}</InlineError>}
        </div>
      )}
    </section>
  );
}
