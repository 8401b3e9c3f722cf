import { describe, expect, it, vi } from "vitest";
import { CognitoClient, CognitoError, authSettingsFrom, cognitoUrl, errorMessage, jwtClaims, type AuthSettings } from "./cognito";

const SETTINGS: AuthSettings = {
  userPoolId: "us-east-1_abc",
  clientId: "client123",
  region: "eu-west-1",
  cognitoEndpoint: "http://127.0.0.1:5000",
  localUser: "admin",
};
const NOW = 1_700_000_000_000;

function fakeFetch(...answers: (Response | Error)[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init: init ?? {} });
    const next = answers.shift();
    if (!next) throw new Error("unexpected call");
    if (next instanceof Error) throw next;
    return next;
  });
  return { fetch: fn as unknown as typeof fetch, calls };
}

const ok = (body: unknown) =>
  new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/x-amz-json-1.1" } });
const fail = (status: number, type: string, message = "") =>
  new Response(JSON.stringify({ __type: type, message }), { status, headers: { "Content-Type": "application/json" } });

const RESULT = { AuthenticationResult: { AccessToken: "acc", IdToken: "id", RefreshToken: "ref", ExpiresIn: 3600, TokenType: "Bearer" } };

function client(...answers: (Response | Error)[]) {
  const f = fakeFetch(...answers);
  return { c: new CognitoClient(SETTINGS, { fetch: f.fetch, now: () => NOW }), calls: f.calls };
}

const bodyOf = (call: { init: RequestInit }) => JSON.parse(String(call.init.body)) as Record<string, unknown>;
const headersOf = (call: { init: RequestInit }) => new Headers(call.init.headers as Record<string, string>);

describe("settings", () => {
  it("reads the auth block of config.json", () => {
    expect(authSettingsFrom({ apiBase: "/api" })).toBeNull();
    expect(authSettingsFrom({ auth: { clientId: "" } })).toBeNull();
    expect(authSettingsFrom({ region: "us-west-2", auth: { userPoolId: "p", clientId: "c", cognitoEndpoint: null } })).toEqual({
      userPoolId: "p",
      clientId: "c",
      region: "us-west-2",
      cognitoEndpoint: null,
      localUser: null,
    });
    expect(authSettingsFrom({ auth: { clientId: "c", localUser: "admin" } })?.localUser).toBe("admin");
  });
  it("uses the emulator when given, else the regional endpoint", () => {
    expect(cognitoUrl({ cognitoEndpoint: "http://127.0.0.1:5000", region: "x" })).toBe("http://127.0.0.1:5000/");
    expect(cognitoUrl({ cognitoEndpoint: null, region: "eu-west-1" })).toBe("https://cognito-idp.eu-west-1.amazonaws.com/");
  });
});

describe("CognitoClient requests", () => {
  it("signs in with USER_PASSWORD_AUTH and the JSON 1.1 protocol headers", async () => {
    const { c, calls } = client(ok(RESULT));
    const result = await c.signIn("alice", "pw");
    expect(calls[0]?.url).toBe("http://127.0.0.1:5000/");
    expect(calls[0]?.init.method).toBe("POST");
    expect(headersOf(calls[0]!).get("Content-Type")).toBe("application/x-amz-json-1.1");
    expect(headersOf(calls[0]!).get("X-Amz-Target")).toBe("AWSCognitoIdentityProviderService.InitiateAuth");
    expect(calls[0]?.init.credentials).toBe("omit");
    expect(bodyOf(calls[0]!)).toEqual({
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: "client123",
      AuthParameters: { USERNAME: "alice", PASSWORD: "pw" },
    });
    expect(result).toEqual({
      kind: "signed-in",
      tokens: { accessToken: "acc", idToken: "id", refreshToken: "ref", expiresAt: NOW + 3_600_000 },
    });
  });

  it("returns the NEW_PASSWORD_REQUIRED challenge and answers it", async () => {
    const { c, calls } = client(
      ok({ ChallengeName: "NEW_PASSWORD_REQUIRED", Session: "sess", ChallengeParameters: { USER_ID_FOR_SRP: "alice" } }),
      ok(RESULT),
    );
    const first = await c.signIn("alice", "temp");
    expect(first).toEqual({ kind: "new-password-required", session: "sess", username: "alice" });
    const second = await c.completeNewPassword("alice", "sess", "N3w-password!");
    expect(second.kind).toBe("signed-in");
    expect(headersOf(calls[1]!).get("X-Amz-Target")).toBe("AWSCognitoIdentityProviderService.RespondToAuthChallenge");
    expect(bodyOf(calls[1]!)).toEqual({
      ChallengeName: "NEW_PASSWORD_REQUIRED",
      ClientId: "client123",
      Session: "sess",
      ChallengeResponses: { USERNAME: "alice", NEW_PASSWORD: "N3w-password!" },
    });
  });

  it("refuses challenges it cannot answer", async () => {
    const { c } = client(ok({ ChallengeName: "SOFTWARE_TOKEN_MFA", Session: "s" }));
    await expect(c.signIn("alice", "pw")).rejects.toMatchObject({
      type: "UnsupportedChallenge",
      message: expect.stringContaining("SOFTWARE_TOKEN_MFA"),
    });
  });

  it("refreshes with REFRESH_TOKEN_AUTH and keeps the refresh token Cognito does not resend", async () => {
    const { c, calls } = client(ok({ AuthenticationResult: { AccessToken: "acc2", IdToken: "id2", ExpiresIn: 300 } }));
    const tokens = await c.refresh("ref");
    expect(bodyOf(calls[0]!)).toEqual({ AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: "client123", AuthParameters: { REFRESH_TOKEN: "ref" } });
    expect(tokens).toEqual({ accessToken: "acc2", idToken: "id2", refreshToken: "ref", expiresAt: NOW + 300_000 });
  });

  it("revokes the refresh token with RevokeToken for the app client", async () => {
    const { fetch, calls } = fakeFetch(ok({}));
    await new CognitoClient(SETTINGS, { fetch }).revoke("ref");
    expect(calls[0]!.url).toBe("http://127.0.0.1:5000/");
    expect((calls[0]!.init.headers as Record<string, string>)["X-Amz-Target"]).toBe("AWSCognitoIdentityProviderService.RevokeToken");
    expect(JSON.parse(calls[0]!.init.body as string)).toEqual({ Token: "ref", ClientId: "client123" });
  });

  it("sends ForgotPassword and ConfirmForgotPassword", async () => {
    const { c, calls } = client(ok({ CodeDeliveryDetails: { Destination: "a***@e***.com", DeliveryMedium: "EMAIL" } }), ok({}));
    expect(await c.forgotPassword("alice")).toBe("a***@e***.com");
    await c.confirmForgotPassword("alice", "123456", "N3w-password!");
    expect(headersOf(calls[0]!).get("X-Amz-Target")).toBe("AWSCognitoIdentityProviderService.ForgotPassword");
    expect(bodyOf(calls[0]!)).toEqual({ ClientId: "client123", Username: "alice" });
    expect(headersOf(calls[1]!).get("X-Amz-Target")).toBe("AWSCognitoIdentityProviderService.ConfirmForgotPassword");
    expect(bodyOf(calls[1]!)).toEqual({ ClientId: "client123", Username: "alice", ConfirmationCode: "123456", Password: "N3w-password!" });
  });
});

describe("CognitoClient errors", () => {
  it("says the same for a wrong password and an unknown user", async () => {
    const a = client(fail(400, "NotAuthorizedException", "Incorrect username or password."));
    const b = client(fail(400, "UserNotFoundException", "User does not exist."));
    const ea = await a.c.signIn("alice", "bad").catch((e: unknown) => e);
    const eb = await b.c.signIn("nobody", "bad").catch((e: unknown) => e);
    expect(ea).toBeInstanceOf(CognitoError);
    expect((ea as Error).message).toBe("Incorrect username or password.");
    expect((eb as Error).message).toBe("Incorrect username or password.");
    expect((eb as Error).message).not.toMatch(/exist/);
  });

  it("maps throttling, with or without a namespace, and marks it retryable", async () => {
    const { c } = client(fail(400, "com.amazonaws.cognito.identity.idp.model#TooManyRequestsException", "Rate exceeded"));
    const err = (await c.signIn("a", "b").catch((e: unknown) => e)) as CognitoError;
    expect(err.type).toBe("TooManyRequestsException");
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/Too many attempts/);
    expect(errorMessage("signIn", "NotAuthorizedException", "Password attempts exceeded")).toMatch(/Too many attempts/);
  });

  it("turns a network failure into a retryable error", async () => {
    const { c } = client(new TypeError("Failed to fetch"));
    await expect(c.refresh("r")).rejects.toMatchObject({ type: "NetworkError", retryable: true, status: 0 });
  });

  it("explains a refused password reset (the emulator may not offer it)", async () => {
    const { c } = client(fail(501, "NotImplemented", "The action ForgotPassword is not implemented"));
    const err = (await c.forgotPassword("alice").catch((e: unknown) => e)) as CognitoError;
    expect(err.message).toMatch(/Password reset is not available here/);
    expect(errorMessage("confirmForgotPassword", "CodeMismatchException", "")).toMatch(/code is not right/);
    expect(errorMessage("confirmForgotPassword", "ExpiredCodeException", "")).toMatch(/expired/);
  });

  it("shows the password policy, and a configuration problem plainly", () => {
    expect(
      errorMessage("newPassword", "InvalidPasswordException", "Password does not conform to policy: Password must have symbol characters"),
    ).toBe("The new password is not allowed: Password must have symbol characters.");
    expect(errorMessage("signIn", "ResourceNotFoundException", "badclient")).toMatch(/not set up correctly/);
    expect(errorMessage("refresh", "NotAuthorizedException", "Refresh Token has been revoked")).toBe(
      "Your session has ended. Sign in again.",
    );
  });

  it("handles an answer without tokens", async () => {
    const { c } = client(ok({}));
    await expect(c.signIn("a", "b")).rejects.toMatchObject({ type: "BadResponse" });
  });
});

describe("jwtClaims", () => {
  it("decodes the payload (base64url, UTF-8) and survives garbage", () => {
    const payload = Buffer.from(JSON.stringify({ username: "zoë", "cognito:groups": ["admin"] })).toString("base64url");
    expect(jwtClaims(`h.${payload}.s`)).toEqual({ username: "zoë", "cognito:groups": ["admin"] });
    expect(jwtClaims("not-a-jwt")).toEqual({});
    expect(jwtClaims("a.%%%.c")).toEqual({});
  });
});
