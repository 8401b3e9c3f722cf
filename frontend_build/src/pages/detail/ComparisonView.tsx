/**
 * What a comparison of a candidate's answers with the serving version's found, shared by a replay's diff view and
 * the shadow results card: the counts, the match rate, both versions' p50/p99, and the largest differences, each
 * with its request and both answers side by side, the part that differs (its path, `where`) marked.
 */
import { Fragment } from "react";
import type { ComparisonCounts, LargestDifference, Latency } from "../../api/safety-types";
import { compared, formatMs, formatRate, jsonLines, parseWhere, readBody, type RuleForm } from "../../lib/comparison";

/** What was compared: a replay or a shadow's tally. */
export interface Comparison {
  counts: ComparisonCounts;
  matchRate: number | null;
  candidateLatency: Latency;
  baselineLatency: Latency;
}

export function ComparisonSummary({ of, candidateLabel, testId }: { of: Comparison; candidateLabel: string; testId?: string }) {
  const { counts, matchRate, candidateLatency, baselineLatency } = of;
  return (
    <dl className="stats comparison-stats" data-testid={testId}>
      <div>
        <dt>Match rate</dt>
        <dd data-testid="match-rate" className={matchRate !== null && matchRate < 1 ? "text-warn" : ""}>
          {formatRate(matchRate)}
        </dd>
      </div>
      <div>
        <dt>Compared</dt>
        <dd>{compared(counts)}</dd>
      </div>
      <div>
        <dt>Matched</dt>
        <dd data-testid="count-matched">{counts.matched}</dd>
      </div>
      <div>
        <dt>Differed</dt>
        <dd data-testid="count-differed" className={counts.differed ? "text-warn" : ""}>
          {counts.differed}
        </dd>
      </div>
      <div>
        <dt title="The candidate failed (a 5xx or a timeout) where the serving version answered">Errored</dt>
        <dd data-testid="count-errored" className={counts.errored ? "text-error" : ""}>
          {counts.errored}
        </dd>
      </div>
      <div>
        <dt title="Not compared: the request or answer was cut at the recorded body size">Skipped</dt>
        <dd data-testid="count-skipped">{counts.skipped}</dd>
      </div>
      <div className="stat-wide">
        <dt>Latency p50 / p99</dt>
        <dd className="latency-pair">
          <span data-testid="candidate-latency">
            {candidateLabel} {formatMs(candidateLatency.p50)} / {formatMs(candidateLatency.p99)}
          </span>
          <span className="muted" data-testid="baseline-latency">
            serving {formatMs(baselineLatency.p50)} / {formatMs(baselineLatency.p99)}
          </span>
        </dd>
      </div>
    </dl>
  );
}

function JsonBlock({ label, value, where, status }: { label: string; value: unknown; where: string | null; status?: number | null }) {
  const lines = jsonLines(readBody(value), where === null ? null : parseWhere(where));
  return (
    <figure className="json-figure">
      <figcaption className="small">
        <strong>{label}</strong>
        {status !== undefined && (
          <span className={`tag http ${status === null ? "http-5xx" : `http-${Math.floor(status / 100)}xx`}`}>
            {status === null ? "no answer" : status}
          </span>
        )}
      </figcaption>
      <pre className="json-lines">
        {lines.map((l, i) => (
          <span key={i} className={l.marked ? "json-line json-marked" : "json-line"}>
            {l.text}
            {"\n"}
          </span>
        ))}
      </pre>
    </figure>
  );
}

/** The largest differences, largest first; each opens to the request and both answers. */
export function LargestDifferences({ items, candidateLabel }: { items: readonly LargestDifference[]; candidateLabel: string }) {
  if (items.length === 0) return <p className="muted small">No differences kept: every compared answer matched.</p>;
  return (
    <ol className="differences" data-testid="largest-differences">
      {items.map((d, i) => (
        <li key={`${d.requestId}-${i}`} className="difference">
          <details open={i === 0}>
            <summary>
              <code>{d.where}</code> · {d.size === null ? "shape or error" : `by ${Number(d.size.toPrecision(4))}`}{" "}
              <span className="muted small">request {d.requestId}</span>
            </summary>
            <div className="diff-sides">
              <JsonBlock label="Request" value={d.requestBody} where={null} />
              <JsonBlock label="Serving version" value={d.baselineBody} where={d.where} status={d.baselineStatus} />
              <JsonBlock label={candidateLabel} value={d.candidateBody} where={d.where} status={d.candidateStatus} />
            </div>
          </details>
        </li>
      ))}
    </ol>
  );
}

const RULE_KINDS: readonly (readonly [RuleForm["kind"], string])[] = [
  ["exact", "Exact: the answers must be equal"],
  ["tolerance", "Numbers within a tolerance"],
];

const MARGINS: readonly (readonly ["absolute" | "relative", string])[] = [
  ["absolute", "absolute ±"],
  ["relative", "relative (fraction of the larger)"],
];

/** The rule's inputs: exact, or a tolerance with an absolute and/or relative margin. `idPrefix` keeps ids unique. */
export function RuleFields({
  value,
  onChange,
  idPrefix,
  error,
  legend = "Comparison",
}: {
  value: RuleForm;
  onChange: (rule: RuleForm) => void;
  idPrefix: string;
  error?: string | null;
  legend?: string;
}) {
  return (
    <fieldset className="fieldset rule-fields">
      <legend className="label">{legend}</legend>
      <div className="radio-row">
        {RULE_KINDS.map(([kind, label]) => (
          <label key={kind} className="check">
            <input type="radio" name={`${idPrefix}-kind`} checked={value.kind === kind} onChange={() => onChange({ ...value, kind })} />
            {label}
          </label>
        ))}
      </div>
      {value.kind === "tolerance" && (
        <div className="inline-form">
          {MARGINS.map(([margin, label]) => (
            <Fragment key={margin}>
              <label className="small" htmlFor={`${idPrefix}-${margin}`}>
                {label}
              </label>
              <input
                id={`${idPrefix}-${margin}`}
                className="input-short"
                inputMode="decimal"
                value={value[margin]}
                onChange={(e) => onChange({ ...value, [margin]: e.target.value })}
                aria-invalid={!!error}
              />
            </Fragment>
          ))}
        </div>
      )}
      {error && <p className="field-error">{error}</p>}
    </fieldset>
  );
}
