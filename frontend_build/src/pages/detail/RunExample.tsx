/**
 * "Run an example": a curl command ready to copy, and a try-it form that sends modelData as written
 * (with the signed-in user's token) and shows the answer. The example starts from the model's own input: what its
 * artifact declares (an ONNX graph's input, an MLflow signature) once it runs, else the body of its last
 * successful request, else a neutral shape to replace; never over what the user typed. The curl command
 * authenticates with the client token just created on this page (`-u name:token`), else shows a
 * Bearer placeholder; public models need nothing. Below it, the same call from Python with the SDK, and
 * the standard protocols' URLs the gateway also answers for this model.
 */
import { useEffect, useState } from "react";
import type { Model, PredictResult } from "../../api/types";
import { useApi } from "../../context";
import { NEUTRAL_EXAMPLE, declaredBy, exampleFromHistory, exampleFromSignature, predictHint } from "../../lib/models";
import { CopyButton } from "../../components/CopyButton";
import { InlineError, errorText } from "../../components/States";
import { formatDuration, statusClass } from "../../lib/format";
import { useRoleIn } from "../../auth/user";
import { deniedReason } from "../../auth/roles";
import { DeniedButton } from "../../components/Guarded";

/** A client token created on the detail page (kept in memory only). */
export interface ExampleCredentials {
  name: string;
  token: string;
}

/** How the curl command authenticates. */
export type CurlAuth = { kind: "none" } | { kind: "basic"; name: string; token: string } | { kind: "bearer-placeholder" };

const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

// Outside the structure's punctuation and numbers, valid JSON has only these: strings, whitespace and literal names.
const JSON_TOKENS = /"(?:[^"\\]|\\.)*"|\s+|true|false|null/g;
const PYTHON_LITERALS: Record<string, string> = { true: "True", false: "False", null: "None" };

/**
 * JSON text on one line with its numbers as written (an MLflow float64 tensor takes 0.0 but refuses 0, which a
 * parse and stringify would make of it); for Python, with true, false and null as Python spells them. Throws a
 * SyntaxError when the text is not JSON.
 */
function oneLine(json: string, language: "json" | "python"): string {
  JSON.parse(json);
  return json.replace(JSON_TOKENS, (token) => {
    if (token.startsWith('"')) return JSON.stringify(JSON.parse(token) as string); // escapes Python reads alike
    if (/^\s/.test(token)) return "";
    return language === "python" ? PYTHON_LITERALS[token]! : token;
  });
}

/** The absolute predict URL for this page's origin (apiBase may be relative or absolute). */
export function predictUrl(apiBase: string, origin: string): string {
  return new URL(`${apiBase.replace(/\/+$/, "")}/predict`, origin).href;
}

export function curlCommand(url: string, modelId: string, modelData: string, auth: CurlAuth = { kind: "none" }): string {
  let data: string;
  try {
    data = oneLine(modelData, "json");
  } catch {
    data = oneLine(NEUTRAL_EXAMPLE, "json");
  }
  const body = `{"modelData":${data},"metaData":${JSON.stringify({ modelId })}}`;
  const authLine =
    auth.kind === "basic"
      ? `  -u ${shellQuote(`${auth.name}:${auth.token}`)} \\\n`
      : auth.kind === "bearer-placeholder"
        ? `  -H 'Authorization: Bearer <your token>' \\\n`
        : "";
  return `curl -X POST '${url}' \\\n${authLine}  -H 'Content-Type: application/json' \\\n  -d ${shellQuote(body)}`;
}

/** The same prediction from a notebook, with the SDK (`pip install ./sdk`); `site` is the console's origin. */
export function pythonSnippet(site: string, name: string, modelData: string): string {
  let data: string;
  try {
    data = oneLine(modelData, "python");
  } catch {
    data = oneLine(NEUTRAL_EXAMPLE, "python");
  }
  return [
    "import kraken",
    `k = kraken.connect(${JSON.stringify(site)})  # signs in as the console does`,
    `m = k.model(${JSON.stringify(name)})`,
    `m.predict(${data})`,
  ].join("\n");
}

/** Where the gateway answers this model in the standard inference protocols (by name, as their clients expect). */
export function protocolUrls(apiBase: string, origin: string, name: string): { label: string; url: string }[] {
  const base = new URL(`${apiBase.replace(/\/+$/, "")}/`, origin).href;
  const model = encodeURIComponent(name);
  return [
    { label: "Open Inference Protocol v2 (KServe, Triton)", url: `${base}v2/models/${model}/infer` },
    { label: "MLflow scoring", url: `${base}models/${model}/invocations` },
    { label: "Seldon", url: `${base}models/${model}/api/v1.0/predictions` },
  ];
}

/** Which credentials the example shows: none for a public model. */
export function curlAuthFor(visibility: Model["endpointVisibility"] | undefined, credentials: ExampleCredentials | null): CurlAuth {
  if (visibility === "public") return { kind: "none" };
  if (credentials) return { kind: "basic", name: credentials.name, token: credentials.token };
  return { kind: "bearer-placeholder" };
}

/**
 * Where the try-it example came from, in the order one may replace another: the model's declared input
 * beats its last successful request, which beats the neutral shape; what the user typed is never replaced.
 */
const EXAMPLE_RANK = { neutral: 0, history: 1, signature: 2, typed: 3 } as const;
type Example = { text: string; source: "neutral" | "history" | "typed" } | { text: string; source: "signature"; declaredBy: string };

export function RunExample({ model, credentials = null }: { model: Model; credentials?: ExampleCredentials | null }) {
  const api = useApi();
  const predictDenied = deniedReason(useRoleIn(model.project), "predict", model.project);
  const auth = curlAuthFor(model.endpointVisibility, credentials);
  const [example, setExample] = useState<Example>({ text: NEUTRAL_EXAMPLE, source: "neutral" });
  const input = example.text;
  const running = model.status === "RUNNING";
  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    // An answer replaces the example only when it ranks at least as high: never what the user typed.
    const offer = (found: Example) => {
      if (!signal.aborted) setExample((current) => (EXAMPLE_RANK[found.source] < EXAMPLE_RANK[current.source] ? current : found));
    };
    // Only the standard runner says what an artifact declares, and only while it runs: asking an idle model would wake it.
    if (running && model.artifactFormat) {
      api
        .getModelMetadata(model.id, signal)
        .then((metadata) => {
          const text = exampleFromSignature(metadata);
          if (text !== null) offer({ text, source: "signature", declaredBy: declaredBy(metadata.platform) });
        })
        .catch(() => {}); // no answer: the history's or the neutral example stays
    }
    api
      .listRequests(model.id, { status: "2xx", limit: 20 }, signal)
      .then((page) => {
        const text = exampleFromHistory(page.items);
        if (text !== null) offer({ text, source: "history" });
      })
      .catch(() => {}); // no history to learn from: the neutral example stays
    return () => controller.abort();
    // Looked up again when the model comes up: it declares its input then, and requests may have arrived meanwhile.
  }, [api, model.id, model.artifactFormat, running]);
  const [inputError, setInputError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const [result, setResult] = useState<PredictResult | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const url = predictUrl(api.baseUrl, window.location.origin);
  const curl = curlCommand(url, model.id, input, auth);
  const python = pythonSnippet(window.location.origin, model.name, input);

  const send = async () => {
    if (predictDenied) return;
    try {
      JSON.parse(input);
    } catch (err) {
      setInputError(`This is not valid JSON: ${(err as Error).message}`);
      return;
    }
    setInputError(null);
    setSending(true);
    setFailure(null);
    try {
      setResult(await api.predict(model.id, input));
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
      <p className="hint curl-note" data-testid="curl-auth-note">
        {auth.kind === "basic"
          ? `Uses the client token ${auth.name} you just created. Keep it secret.`
          : auth.kind === "bearer-placeholder"
            ? "This model is private: replace <your token> with a client token (admins create them under Clients), or use curl -u <client-name>:<token>. Public models need no token."
            : "This model is public: calls need no token."}
      </p>
      <details className="more-ways">
        <summary>From Python, and in the standard protocols</summary>
        <div className="code-header">
          <span className="muted small">Python (the kraken SDK)</span>
          <CopyButton text={python} label="Copy the Python example" />
        </div>
        <pre className="code-block" data-testid="python-example">
          {python}
        </pre>
        <ul className="protocol-urls" data-testid="protocol-urls">
          {protocolUrls(api.baseUrl, window.location.origin, model.name).map((p) => (
            <li key={p.label}>
              {p.label}: <code>{p.url}</code>
            </li>
          ))}
        </ul>
      </details>

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
          onChange={(e) => setExample({ text: e.target.value, source: "typed" })}
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
          <p id="model-data-hint" className="hint" data-testid="model-data-hint">
            {example.source === "signature"
              ? `From this model's declared input (${example.declaredBy}): replace the zeros with real values. `
              : example.source === "history"
                ? "From this model's last successful request. "
                : example.source === "neutral"
                  ? "An example shape: replace it with the model's input (records or rows). "
                  : ""}
            {predictHint(model.status)}
          </p>
        )}
        {predictDenied ? (
          <DeniedButton className="btn btn-primary" reason={predictDenied}>
            Send
          </DeniedButton>
        ) : (
          <button type="submit" className="btn btn-primary" disabled={sending}>
            {sending ? "Sending…" : "Send"}
          </button>
        )}
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
