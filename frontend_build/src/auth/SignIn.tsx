/**
 * The sign-in page, the only screen until someone signs in: user name and password, then (when
 * Cognito asks) a new password, and the forgotten-password flow (a code by email or SMS, then a new
 * password). Errors are the CognitoClient's safe messages; each step focuses its first field.
 */
import { useId, useState, type FormEvent, type InputHTMLAttributes, type ReactNode } from "react";
import { CognitoError, type CognitoClient, type Tokens } from "./cognito";

type Step =
  | { kind: "sign-in"; info: string | null }
  | { kind: "new-password"; username: string; session: string }
  | { kind: "forgot" }
  | { kind: "confirm-forgot"; username: string; destination: string | null };

function messageOf(err: unknown): string {
  if (err instanceof CognitoError) return err.message;
  return "Sign-in failed. Try again.";
}

export function SignInPage({
  cognito,
  reason,
  stage,
  localUser,
  onSignedIn,
}: {
  cognito: CognitoClient;
  reason: string | null;
  stage: string;
  /** The user local mode created, named on the page; null on AWS. */
  localUser: string | null;
  onSignedIn: (tokens: Tokens, username: string) => void;
}) {
  const [step, setStep] = useState<Step>({ kind: "sign-in", info: reason });
  const [username, setUsername] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const go = (next: Step) => {
    setError(null);
    setStep(next);
  };

  let body: ReactNode;
  switch (step.kind) {
    case "sign-in":
      body = (
        <SignInForm
          key="sign-in"
          busy={busy}
          username={username}
          setUsername={setUsername}
          info={step.info}
          localUser={localUser}
          onSubmit={(password) =>
            run(async () => {
              const result = await cognito.signIn(username.trim(), password);
              if (result.kind === "signed-in") onSignedIn(result.tokens, username.trim());
              else go({ kind: "new-password", username: result.username, session: result.session });
            })
          }
          onForgot={() => go({ kind: "forgot" })}
        />
      );
      break;
    case "new-password":
      body = (
        <NewPasswordForm
          key="new-password"
          busy={busy}
          title="Choose a new password"
          intro="Your account has a temporary password. Choose your own to continue."
          submitLabel="Set password and sign in"
          onSubmit={(password) =>
            run(async () => {
              const result = await cognito.completeNewPassword(step.username, step.session, password);
              if (result.kind === "signed-in") onSignedIn(result.tokens, step.username);
              else throw new CognitoError("UnsupportedChallenge", "Cognito asked for a new password again. Sign in again.");
            })
          }
          onBack={() => go({ kind: "sign-in", info: null })}
        />
      );
      break;
    case "forgot":
      body = (
        <ForgotForm
          key="forgot"
          busy={busy}
          username={username}
          setUsername={setUsername}
          onSubmit={() =>
            run(async () => {
              const destination = await cognito.forgotPassword(username.trim());
              go({ kind: "confirm-forgot", username: username.trim(), destination });
            })
          }
          onBack={() => go({ kind: "sign-in", info: null })}
        />
      );
      break;
    case "confirm-forgot":
      body = (
        <NewPasswordForm
          key="confirm-forgot"
          busy={busy}
          title="Set a new password"
          intro={
            step.destination
              ? `A code was sent to ${step.destination}. Enter it with your new password.`
              : "If the account exists, a code was sent to its email or phone. Enter it with your new password."
          }
          withCode
          submitLabel="Set new password"
          onSubmit={(password, code) =>
            run(async () => {
              await cognito.confirmForgotPassword(step.username, code.trim(), password);
              go({ kind: "sign-in", info: "Your password was changed. Sign in with the new one." });
            })
          }
          onBack={() => go({ kind: "sign-in", info: null })}
        />
      );
      break;
  }

  return (
    <main className="signin" id="main">
      <div className="signin-card">
        <p className="signin-brand">Kraken{stage && stage !== "unknown" ? <span className="stage">{stage}</span> : null}</p>
        {body}
        {error && (
          <div className="inline-error" role="alert" data-testid="signin-error">
            {error}
          </div>
        )}
      </div>
    </main>
  );
}

function SignInForm({
  busy,
  username,
  setUsername,
  info,
  localUser,
  onSubmit,
  onForgot,
}: {
  busy: boolean;
  username: string;
  setUsername: (v: string) => void;
  info: string | null;
  localUser: string | null;
  onSubmit: (password: string) => void;
  onForgot: () => void;
}) {
  const [password, setPassword] = useState("");
  const id = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!username.trim() || !password) return;
    onSubmit(password);
  };
  return (
    <form onSubmit={submit} aria-busy={busy} className="signin-form">
      <h1>Sign in</h1>
      {info && (
        <p className="banner banner-info" role="status">
          {info}
        </p>
      )}
      {localUser && (
        <p className="hint" data-testid="local-user">
          Local mode created the user <strong className="mono">{localUser}</strong>. Its password is in the <code>admin-password</code> file
          named in local mode's start-up output.
        </p>
      )}
      <UsernameField id={`${id}-user`} value={username} onChange={setUsername} />
      <Field
        id={`${id}-password`}
        label="Password"
        name="password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={setPassword}
      />
      <button type="submit" className="btn btn-primary signin-submit" disabled={busy || !username.trim() || !password}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
      <button type="button" className="btn-link" onClick={onForgot}>
        Forgot password?
      </button>
    </form>
  );
}

function ForgotForm({
  busy,
  username,
  setUsername,
  onSubmit,
  onBack,
}: {
  busy: boolean;
  username: string;
  setUsername: (v: string) => void;
  onSubmit: () => void;
  onBack: () => void;
}) {
  const id = useId();
  return (
    <form
      className="signin-form"
      aria-busy={busy}
      onSubmit={(e) => {
        e.preventDefault();
        if (username.trim()) onSubmit();
      }}
    >
      <h1>Reset your password</h1>
      <p className="muted">Enter your username; a code to reset the password is sent to the account's email or phone.</p>
      <UsernameField id={`${id}-user`} value={username} onChange={setUsername} />
      <button type="submit" className="btn btn-primary signin-submit" disabled={busy || !username.trim()}>
        {busy ? "Sending…" : "Send a code"}
      </button>
      <button type="button" className="btn-link" onClick={onBack}>
        Back to sign in
      </button>
    </form>
  );
}

function NewPasswordForm({
  busy,
  title,
  intro,
  withCode,
  submitLabel,
  onSubmit,
  onBack,
}: {
  busy: boolean;
  title: string;
  intro: string;
  withCode?: boolean;
  submitLabel: string;
  onSubmit: (password: string, code: string) => void;
  onBack: () => void;
}) {
  const id = useId();
  const [code, setCode] = useState("");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [mismatch, setMismatch] = useState(false);
  return (
    <form
      className="signin-form"
      aria-busy={busy}
      onSubmit={(e) => {
        e.preventDefault();
        if (password !== repeat) {
          setMismatch(true);
          return;
        }
        setMismatch(false);
        if (password && (!withCode || code.trim())) onSubmit(password, code);
      }}
    >
      <h1>{title}</h1>
      <p className="muted">{intro}</p>
      {withCode && (
        <>
          <Field
            id={`${id}-code`}
            label="Code"
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            autoFocus
            value={code}
            onChange={setCode}
          />
        </>
      )}
      <Field
        id={`${id}-new`}
        label="New password"
        name="new-password"
        type="password"
        autoComplete="new-password"
        autoFocus={!withCode}
        aria-describedby={`${id}-rules`}
        value={password}
        onChange={setPassword}
      />
      <p id={`${id}-rules`} className="hint">
        The user pool's password rules apply (usually at least 8 characters with upper and lower case letters, a digit and a symbol).
      </p>
      <Field
        id={`${id}-repeat`}
        label="Repeat the new password"
        name="repeat-password"
        type="password"
        autoComplete="new-password"
        aria-invalid={mismatch}
        aria-describedby={mismatch ? `${id}-mismatch` : undefined}
        value={repeat}
        onChange={setRepeat}
      />
      {mismatch && (
        <p id={`${id}-mismatch`} className="field-error" role="alert">
          The two passwords are not the same.
        </p>
      )}
      <button type="submit" className="btn btn-primary signin-submit" disabled={busy || !password || !repeat || (withCode && !code.trim())}>
        {busy ? "Saving…" : submitLabel}
      </button>
      <button type="button" className="btn-link" onClick={onBack}>
        Back to sign in
      </button>
    </form>
  );
}

type FieldProps = { id: string; label: string; value: string; onChange: (value: string) => void } & Omit<
  InputHTMLAttributes<HTMLInputElement>,
  "id" | "value" | "onChange"
>;

/** A labelled, required text input: every field of the sign-in forms. */
function Field({ id, label, value, onChange, ...input }: FieldProps) {
  return (
    <>
      <label className="label" htmlFor={id}>
        {label}
      </label>
      <input id={id} required value={value} onChange={(e) => onChange(e.target.value)} {...input} />
    </>
  );
}

function UsernameField({ id, value, onChange }: { id: string; value: string; onChange: (value: string) => void }) {
  return (
    <Field
      id={id}
      label="Username"
      name="username"
      autoComplete="username"
      autoCapitalize="none"
      spellCheck={false}
      autoFocus
      value={value}
      onChange={onChange}
    />
  );
}
