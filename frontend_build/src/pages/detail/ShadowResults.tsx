/**
 * What each shadow version's comparisons came to since it became a shadow (GET /models/{id}/shadow): its share of
 * the traffic, the counts, the match rate, both versions' latency and the largest differences. Shown while the
 * deployment has a shadow (set in the Deploy dialog) and refreshed every few seconds, as live traffic adds to it.
 */
import { isTransient } from "../../api/client";
import type { Model } from "../../api/types";
import { lineShadow } from "../../api/safety-types";
import { useApi } from "../../context";
import { useAsync, useInterval } from "../../hooks/useAsync";
import { ErrorState, Loading, RefreshFailed } from "../../components/States";
import { Time } from "../../components/Time";
import { describeRule } from "../../lib/comparison";
import { ComparisonSummary, LargestDifferences } from "./ComparisonView";

const POLL_MS = 5000;

/** The deployment's shadow versions, newest first. */
export function shadowVersions(model: Model): number[] {
  return model.deployment
    .filter((d) => !d.leaving && lineShadow(d) !== null)
    .map((d) => d.version)
    .sort((a, b) => b - a);
}

export function ShadowResults({ model }: { model: Model }) {
  const api = useApi();
  const shadows = shadowVersions(model);
  const key = shadows.join(",");
  const tallies = useAsync((signal) => api.getShadow(model.id, signal), [api, model.id, key]);
  useInterval(tallies.reload, POLL_MS, tallies.error === undefined || isTransient(tallies.error));
  const items = tallies.data?.items;
  return (
    <section className="panel" aria-labelledby="shadow-title" data-testid="shadow-results">
      <h3 id="shadow-title" className="section-title">
        Shadow traffic
      </h3>
      <p className="muted small">
        A shadow gets a copy of some live requests; its answers reach no caller and are compared with the serving version's.
      </p>
      {tallies.error !== undefined && items === undefined ? (
        <ErrorState error={tallies.error} title="Could not load the shadow results" onRetry={tallies.reload} />
      ) : items === undefined ? (
        <Loading label="Loading the shadow results…" />
      ) : (
        <>
          <RefreshFailed error={tallies.error} />
          {items.length === 0 && <p className="muted small">No comparison yet: they come with the next requests.</p>}
          {items.map((t) => {
            const rule = lineShadow(model.deployment.find((d) => d.version === t.version) ?? {})?.rule;
            return (
              <div key={t.version} data-shadow-version={t.version}>
                <h4 className="small">
                  v{t.version}: a copy of {t.percent}% of the requests{rule ? `, compared ${describeRule(rule)}` : ""}
                  {t.since && (
                    <>
                      , since <Time iso={t.since} />
                    </>
                  )}
                </h4>
                <ComparisonSummary of={t} candidateLabel={`v${t.version}`} testId={`shadow-summary-${t.version}`} />
                <LargestDifferences items={t.largest} candidateLabel={`Shadow v${t.version}`} />
              </div>
            );
          })}
        </>
      )}
    </section>
  );
}
