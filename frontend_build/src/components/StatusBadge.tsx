/** The model status as a coloured badge; a FAILED badge carries its reason on hover and for screen readers. */
import type { ModelStatus } from "../api/types";

const LABELS: Record<ModelStatus, string> = {
  STOPPED: "Stopped",
  PENDING: "Starting",
  RUNNING: "Running",
  STOPPING: "Stopping",
  FAILED: "Failed",
  IDLE: "Idle",
};

export function StatusBadge({ status, reason }: { status: ModelStatus; reason?: string | null }) {
  const transitional = status === "PENDING" || status === "STOPPING";
  const cls = `badge badge-${status.toLowerCase()}`;
  if (reason && (status === "FAILED" || status === "STOPPED")) {
    return (
      <span className={cls} title={reason} tabIndex={0} aria-label={`${LABELS[status]}: ${reason}`} data-status={status}>
        {LABELS[status]}
        <span aria-hidden="true" className="badge-info">
          i
        </span>
      </span>
    );
  }
  if (status === "IDLE") {
    return (
      <span className={cls} title="No container runs; the next request wakes the model" data-status={status}>
        {LABELS[status]}
      </span>
    );
  }
  return (
    <span className={cls} data-status={status}>
      {transitional && <span className="spinner spinner-small" aria-hidden="true" />}
      {LABELS[status]}
    </span>
  );
}
