/**
 * A project's quota refused what was asked (a start, a deployment change, a new model, a move): the API's
 * 409 `quota_exceeded`, whose message names the bound, what is in use, what was asked and what is left. Said
 * as a banner where it was asked, with the way out (the project's page shows its usage), never as "reload".
 */
import type { ApiError } from "../api/client";
import { quotaRefusal } from "../lib/quotas";
import { href } from "../lib/routes";

export function QuotaBanner({ error, project, onDismiss }: { error: ApiError; project: string; onDismiss?: () => void }) {
  return (
    <div className="banner banner-warning quota-banner" role="alert" data-testid="quota-exceeded">
      <p>
        <strong>Refused by the quota of project {project}.</strong> {quotaRefusal(error)}
      </p>
      <p className="small">
        Stop or shrink another of its models, or ask a stage admin to raise <a href={href({ page: "project", name: project })}>its quota</a>
        .
      </p>
      {onDismiss && (
        <button type="button" className="btn-icon banner-dismiss" aria-label="Dismiss" onClick={onDismiss}>
          ×
        </button>
      )}
    </div>
  );
}
