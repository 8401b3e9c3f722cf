/**
 * Choosing a file and sending it through a presigned POST, with a progress bar and cancel: the model
 * file panel and a new version's file both use it, each with its own way to get the upload ticket.
 */
import { useId, useRef, useState } from "react";
import type { ArtifactFormat, PresignedUpload } from "../api/types";
import { useApi, useNotify } from "../context";
import { InlineError, errorText } from "./States";
import { formatBytes } from "../lib/format";

export const ACCEPT: Record<ArtifactFormat, string> = {
  joblib: ".joblib,.pkl,.gz",
  pickle: ".pkl,.pickle",
  onnx: ".onnx",
  python: ".py",
  xgboost: ".json,.ubj",
  lightgbm: ".txt",
  bundle: ".zip,.tar.gz,.tgz",
  mlflow: ".zip",
};

export function FileUpload({
  label,
  format,
  requestTicket,
  onUploaded,
  inputId,
}: {
  label: string;
  format: string | null;
  /** Asks the API for the presigned POST (the model's or a version's). */
  requestTicket: () => Promise<PresignedUpload>;
  onUploaded: () => void;
  inputId?: string;
}) {
  const api = useApi();
  const notify = useNotify();
  const generated = useId();
  const id = inputId ?? generated;
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<{ loaded: number; total: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const controller = useRef<AbortController | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const uploading = progress !== null;

  const upload = async () => {
    if (!file) return;
    setError(null);
    setProgress({ loaded: 0, total: file.size });
    controller.current = new AbortController();
    try {
      const presigned = await requestTicket();
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
    <div className="upload">
      <label htmlFor={id} className="label">
        {label}
      </label>
      <input
        id={id}
        ref={input}
        type="file"
        accept={format && format in ACCEPT ? ACCEPT[format as ArtifactFormat] : ""}
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
  );
}
