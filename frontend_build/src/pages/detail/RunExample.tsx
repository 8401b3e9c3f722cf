/** "Run an example": a curl command ready to copy, and a try-it form that sends modelData and shows the answer. */
import { useState } from "react";
import type { Model, PredictResult } from "../../api/types";
import { useApi } from "../../context";
import { CopyButton } from "../../components/CopyButton";
import { InlineError, errorText } from "../../components/States";
import { formatDuration, statusClass } from "../../lib/format";

const EXAMPLE_DATA = "[[5.1, 3.5, 1.4, 0.2]]";

/** The absolute predict URL for this page's origin (apiBase may be relative or absolute). */
export function predictUrl(apiBase: string, origin: string): string {
  return new URL(`${apiBase.replace(/\/+$/, "")}/predict`, origin).href;
}

export function curlCommand(url: string, modelId: string, modelData: string): string {
  let data: unknown;
  try {
    data = JSON.parse(modelData);
  } catch {
    data = JSON.parse(EXAMPLE_DATA);
  }
  const body = JSON.stringify({ modelData: data, metaData: { modelId } });
  const quoted = `'${body.replace(/'/g, `'\\''`)}'`;
  return `curl -X POST '${url}' \\\n  -H 'Content-Type: application/json' \\\n  -d ${quoted}`;
}

export function RunExample({ model }: { model: Model }) {
  const api = useApi();
  const [input, setInput] = useState(EXAMPLE_DATA);
  const [inputError, setInputError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const [result, setResult] = useState<PredictResult | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const url = predictUrl(api.baseUrl, window.location.origin);
  const curl = curlCommand(url, model.id, input);

  const send = async () => {
    let data: unknown;
    try {
      data = JSON.parse(input);
    } catch (err) {
      setInputError(`This is not valid JSON: ${(err as Error).message}`);
      return;
    }
    setInputError(null);
    setSending(true);
    setFailure(null);
    try {
      setResult(await api.predict(model.id, data));
    } catch (err) {
      setResult(null);
      setFailure(err);
    } finally {
      setSending(false);
    }
  };

  return (
    <section className="panel" aria-labelledby="run-example">
      <h2 id="run-example">Run an example</h2>
      <div className="code-header">
        <span className="muted small">curl</span>
        <CopyButton text={curl} label="Copy the curl command" />
      </div>
      <pre className="code-block" data-testid="curl">
        {curl}
      </pre>

      <form
        className="try-it"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <label htmlFor="model-data" className="label">
          Try it: <code>modelData</code> (JSON)
        </label>
        <textarea
          id="model-data"
          className="mono"
          rows={4}
          value={input}
          spellCheck={false}
          aria-invalid={!!inputError}
          aria-describedby={inputError ? "model-data-error" : "model-data-hint"}
          onChange={(e) => setInput(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              void send();
            }
          }}
        />
        {inputError ? (
          <p id="model-data-error" className="field-error">
            {inputError}
          </p>
        ) : (
          <p id="model-data-hint" className="hint">
            {model.status === "RUNNING" ? "Ctrl+Enter sends." : `The model is ${model.status.toLowerCase()}; start it to get predictions.`}
          </p>
        )}
        <button type="submit" className="btn btn-primary" disabled={sending}>
          {sending ? "Sending…" : "Send"}
        </button>
      </form>

      {failure !== null && <InlineError>{errorText(failure)}</InlineError>}
      {result && (
        <div className="result" aria-live="polite" data-testid="predict-result">
          <p className="result-meta">
            <span className={`http http-${statusClass(result.status)}`}>{result.status}</span>
            <span>{formatDuration(result.elapsedMs)}</span>
            {result.serverTiming && (
              <span className="muted small" title="Server-Timing">
                {result.serverTiming}
              </span>
            )}
            {result.requestId && (
              <span className="muted small">
                request <code>{result.requestId}</code>
              </span>
            )}
          </p>
          <pre className="code-block">{typeof result.body === "string" ? result.body : JSON.stringify(result.body, null, 2)}</pre>
        </div>
      )}
    </section>
  );
}
