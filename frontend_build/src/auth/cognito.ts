/**
 * Cognito's user-pool API called directly with fetch (no AWS SDK: the bundle stays small). Only what
 * the console needs: password sign-in (USER_PASSWORD_AUTH), the NEW_PASSWORD_REQUIRED challenge,
 * refresh (REFRESH_TOKEN_AUTH), revoking the refresh token at sign-out (RevokeToken) and the
 * forgotten-password pair. Every failure becomes a
 * `CognitoError` whose `message` is safe to show: a wrong user name and a wrong password read the
 * same, and the service's own text is shown only where it explains a rule (the password policy).
 */

export interface AuthSettings {
  userPoolId: string;
  clientId: string;
  region: string;
  /** The emulator's URL in local mode; null on AWS. */
  cognitoEndpoint: string | null;
  /** The user local mode created (the sign-in page names it); null on AWS. */
  localUser: string | null;
}

/** Reads the `auth` block of /config.json; null when it is missing or has no app client. */
export function authSettingsFrom(config: Record<string, unknown>): AuthSettings | null {
  const auth = config.auth;
  if (!auth || typeof auth !== "object") return null;
  const a = auth as Record<string, unknown>;
  if (typeof a.clientId !== "string" || !a.clientId) return null;
  const region = typeof a.region === "string" && a.region ? a.region : typeof config.region === "string" ? config.region : "us-east-1";
  return {
    userPoolId: typeof a.userPoolId === "string" ? a.userPoolId : "",
    clientId: a.clientId,
    region,
    cognitoEndpoint: typeof a.cognitoEndpoint === "string" && a.cognitoEndpoint ? a.cognitoEndpoint : null,
    localUser: typeof a.localUser === "string" && a.localUser ? a.localUser : null,
  };
}

export function cognitoUrl(settings: Pick<AuthSettings, "cognitoEndpoint" | "region">): string {
  const base = settings.cognitoEndpoint ?? `https://cognito-idp.${settings.region}.amazonaws.com`;
  return base.replace(/\/+$/, "") + "/";
}

export interface Tokens {
  accessToken: string;
  idToken: string | null;
  refreshToken: string;
  /** Epoch milliseconds when the access token expires. */
  expiresAt: number;
}

export type SignInResult = { kind: "signed-in"; tokens: Tokens } | { kind: "new-password-required"; session: string; username: string };

export type CognitoAction = "signIn" | "newPassword" | "refresh" | "revoke" | "forgotPassword" | "confirmForgotPassword";

export class CognitoError extends Error {
  /** The service's error type without its namespace ("NotAuthorizedException"), "NetworkError" or "BadResponse". */
  readonly type: string;
  readonly status: number;
  /** Whether waiting and trying again may help (throttling, network). */
  readonly retryable: boolean;

  constructor(type: string, message: string, status = 0, retryable = false) {
    super(message);
    this.name = "CognitoError";
    this.type = type;
    this.status = status;
    this.retryable = retryable;
  }
}

const THROTTLED = new Set(["TooManyRequestsException", "LimitExceededException", "TooManyFailedAttemptsException"]);

/** The message a person sees for a failed call; never says whether the user exists. */
export function errorMessage(action: CognitoAction, type: string, serviceMessage: string): string {
  if (THROTTLED.has(type) || /attempts exceeded/i.test(serviceMessage)) return "Too many attempts. Wait a few minutes, then try again.";
  if (type === "NetworkError") return "Cannot reach the sign-in service. Check your connection and try again.";
  if (type === "ResourceNotFoundException" || type === "InvalidUserPoolConfigurationException")
    return "Sign-in is not set up correctly for this console (unknown user pool or app client). Tell an administrator.";
  switch (action) {
    case "signIn":
      if (type === "NotAuthorizedException" || type === "UserNotFoundException") return "Incorrect username or password.";
      if (type === "PasswordResetRequiredException") return "Your password must be reset: use “Forgot password?”.";
      if (type === "UserNotConfirmedException") return "This account is not confirmed yet. Ask an administrator.";
      break;
    case "newPassword":
      if (type === "InvalidPasswordException") return policyMessage(serviceMessage);
      if (type === "NotAuthorizedException" || type === "CodeMismatchException" || type === "ExpiredCodeException")
        return "The sign-in took too long. Sign in again with your temporary password.";
      break;
    case "refresh":
      return "Your session has ended. Sign in again.";
    case "revoke":
      return "The sign-in service could not revoke the session; it ends when its refresh token expires.";
    case "forgotPassword":
      if (type === "UserNotFoundException" || type === "NotAuthorizedException" || type === "InvalidParameterException")
        return "A reset code cannot be sent for this account. Ask an administrator to reset your password.";
      return "Password reset is not available here (the sign-in service refused it). Ask an administrator to reset your password.";
    case "confirmForgotPassword":
      if (type === "CodeMismatchException") return "That code is not right. Check it and try again.";
      if (type === "ExpiredCodeException") return "That code has expired. Request a new one.";
      if (type === "InvalidPasswordException") return policyMessage(serviceMessage);
      if (type === "UserNotFoundException" || type === "NotAuthorizedException") return "That code is not right. Check it and try again.";
      return "The password could not be reset here (the sign-in service refused it). Ask an administrator.";
  }
  return "Sign-in failed. Try again, or ask an administrator if it keeps failing.";
}

/** Cognito's policy text ("Password does not conform to policy: Password must have symbol characters"). */
function policyMessage(serviceMessage: string): string {
  const detail = serviceMessage.replace(/^.*?policy:\s*/i, "").trim();
  return detail && detail.length < 200
    ? `The new password is not allowed: ${detail}.`.replace(/\.\.$/, ".")
    : "The new password does not meet the password rules.";
}

type FetchLike = typeof fetch;

export class CognitoClient {
  readonly url: string;
  private readonly settings: AuthSettings;
  private readonly fetchImpl: FetchLike;
  private readonly now: () => number;

  constructor(settings: AuthSettings, options: { fetch?: FetchLike; now?: () => number } = {}) {
    this.settings = settings;
    this.url = cognitoUrl(settings);
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = options.now ?? Date.now;
  }

  /** One call: POST with the JSON 1.1 protocol headers; errors become CognitoError. */
  async call(action: CognitoAction, target: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await this.fetchImpl(this.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": `AWSCognitoIdentityProviderService.${target}`,
        },
        body: JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
      });
    } catch {
      throw new CognitoError("NetworkError", errorMessage(action, "NetworkError", ""), 0, true);
    }
    const text = await response.text().catch(() => "");
    let data: Record<string, unknown> = {};
    try {
      const parsed: unknown = text ? JSON.parse(text) : {};
      if (parsed && typeof parsed === "object") data = parsed as Record<string, unknown>;
    } catch {
      data = {};
    }
    if (!response.ok) {
      const rawType = String(data.__type ?? data.code ?? response.headers.get("x-amzn-ErrorType") ?? "");
      // "com.amazonaws...#NotAuthorizedException" or "NotAuthorizedException:http://..."
      const type = rawType.split("#").pop()?.split(":")[0] || (response.status >= 500 ? "ServiceError" : "UnknownError");
      const serviceMessage = String(data.message ?? data.Message ?? "");
      const retryable = THROTTLED.has(type) || response.status >= 500;
      throw new CognitoError(type, errorMessage(action, type, serviceMessage), response.status, retryable);
    }
    return data;
  }

  private tokensFrom(action: CognitoAction, data: Record<string, unknown>, refreshToken?: string): Tokens {
    const result = data.AuthenticationResult as Record<string, unknown> | undefined;
    const access = result?.AccessToken;
    const refresh = result?.RefreshToken ?? refreshToken;
    if (typeof access !== "string" || typeof refresh !== "string")
      throw new CognitoError("BadResponse", errorMessage(action, "BadResponse", ""));
    const expiresIn = typeof result?.ExpiresIn === "number" && result.ExpiresIn > 0 ? result.ExpiresIn : 3600;
    return {
      accessToken: access,
      idToken: typeof result?.IdToken === "string" ? result.IdToken : null,
      refreshToken: refresh,
      expiresAt: this.now() + expiresIn * 1000,
    };
  }

  async signIn(username: string, password: string): Promise<SignInResult> {
    const data = await this.call("signIn", "InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: this.settings.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    return this.signInResult("signIn", data, username);
  }

  private signInResult(action: CognitoAction, data: Record<string, unknown>, username: string): SignInResult {
    if (data.ChallengeName === "NEW_PASSWORD_REQUIRED" && typeof data.Session === "string") {
      const params = data.ChallengeParameters as Record<string, unknown> | undefined;
      const challenged = typeof params?.USER_ID_FOR_SRP === "string" ? params.USER_ID_FOR_SRP : username;
      return { kind: "new-password-required", session: data.Session, username: challenged };
    }
    if (typeof data.ChallengeName === "string") {
      throw new CognitoError(
        "UnsupportedChallenge",
        `This account needs a sign-in step the console does not support (${data.ChallengeName}). Ask an administrator.`,
      );
    }
    return { kind: "signed-in", tokens: this.tokensFrom(action, data) };
  }

  async completeNewPassword(username: string, session: string, newPassword: string): Promise<SignInResult> {
    const data = await this.call("newPassword", "RespondToAuthChallenge", {
      ChallengeName: "NEW_PASSWORD_REQUIRED",
      ClientId: this.settings.clientId,
      Session: session,
      ChallengeResponses: { USERNAME: username, NEW_PASSWORD: newPassword },
    });
    return this.signInResult("newPassword", data, username);
  }

  /** A new access token; Cognito does not send a new refresh token, so the old one is kept. */
  async refresh(refreshToken: string): Promise<Tokens> {
    const data = await this.call("refresh", "InitiateAuth", {
      AuthFlow: "REFRESH_TOKEN_AUTH",
      ClientId: this.settings.clientId,
      AuthParameters: { REFRESH_TOKEN: refreshToken },
    });
    return this.tokensFrom("refresh", data, refreshToken);
  }

  /** Ends the refresh token (and the access tokens issued with it) at Cognito, so a copied session stops working. */
  async revoke(refreshToken: string): Promise<void> {
    await this.call("revoke", "RevokeToken", { Token: refreshToken, ClientId: this.settings.clientId });
  }

  /** Asks Cognito to send a reset code; returns where it went ("e***@example.com"), when it says. */
  async forgotPassword(username: string): Promise<string | null> {
    const data = await this.call("forgotPassword", "ForgotPassword", { ClientId: this.settings.clientId, Username: username });
    const details = data.CodeDeliveryDetails as Record<string, unknown> | undefined;
    return typeof details?.Destination === "string" ? details.Destination : null;
  }

  async confirmForgotPassword(username: string, code: string, password: string): Promise<void> {
    await this.call("confirmForgotPassword", "ConfirmForgotPassword", {
      ClientId: this.settings.clientId,
      Username: username,
      ConfirmationCode: code,
      Password: password,
    });
  }
}

/** The payload of a JWT, unverified: only for display (the server verifies every token). */
export function jwtClaims(token: string): Record<string, unknown> {
  const part = token.split(".")[1];
  if (!part) return {};
  try {
    const b64 = part
      .replace(/-/g, "+")
      .replace(/_/g, "/")
      .padEnd(Math.ceil(part.length / 4) * 4, "=");
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
