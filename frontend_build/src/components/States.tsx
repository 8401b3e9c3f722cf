/** Loading, empty and error states, so every screen says what is going on. */
import type { ReactNode } from "react";
import { ApiError } from "../api/client";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="state state-loading" role="status">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{title}</p>
      {children}
    </div>
  );
}

/** A human sentence for any error the client may throw. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError && error.status === 403) return `Not allowed for your role: ${error.message}`;
  if (error instanceof ApiError && error.status === 401) return `Not signed in: ${error.message}`;
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}

export function ErrorState({ error, title, onRetry }: { error: unknown; title?: string; onRetry?: () => void }) {
  const api = error instanceof ApiError ? error : null;
  const heading =
    api?.status === 403
      ? "Not allowed for your role"
      : (title ?? (api?.isNotFound ? "Not available" : api?.isNetwork ? "Cannot reach the server" : "Could not load this"));
  return (
    <div className="state state-error" role="alert">
      <p className="state-title">{heading}</p>
      <p>{errorText(error)}</p>
      {api && api.status > 0 && (
        <p className="muted small">
          HTTP {api.status} · {api.code}
          {api.requestId ? ` · request ${api.requestId}` : ""}
        </p>
      )}
      {onRetry && (
        <button type="button" className="btn" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** An inline error line, e.g. above a form. */
export function InlineError({ children }: { children: ReactNode }) {
  return (
    <div className="inline-error" role="alert">
      {children}
    </div>
  );
}

/** Said above data still shown when reloading it failed (polling goes on); nothing when the last load worked. */
export function RefreshFailed({ error }: { error: unknown }) {
  if (error === undefined) return null;
  return <InlineError>The last refresh failed: {errorText(error)}</InlineError>;
}
