import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CognitoError, type Tokens } from "./cognito";
import { AuthManager, REFRESH_MARGIN_MS, STORAGE_KEY, type AuthState } from "./session";

class MemoryStorage {
  data = new Map<string, string>();
  getItem(k: string) {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.data.set(k, v);
  }
  removeItem(k: string) {
    this.data.delete(k);
  }
}

const tokens = (access: string, expiresAt: number, refresh = "ref"): Tokens => ({
  accessToken: access,
  idToken: null,
  refreshToken: refresh,
  expiresAt,
});

function setup(refresh: (token: string) => Promise<Tokens>, revoke: (token: string) => Promise<void> = async () => {}) {
  const storage = new MemoryStorage();
  const cognito = { refresh: vi.fn(refresh), revoke: vi.fn(revoke) };
  const manager = new AuthManager(cognito, { storage, now: () => Date.now() });
  const states: AuthState[] = [];
  manager.subscribe((s) => states.push(s));
  return { storage, cognito, manager, states };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_700_000_000_000);
});
afterEach(() => vi.useRealTimers());

describe("AuthManager", () => {
  it("keeps the session in the given (session) storage and sends a Bearer header", async () => {
    const { storage, manager } = setup(async () => tokens("x", 0));
    expect(await manager.authHeaders()).toEqual({});
    manager.signedIn(tokens("acc", Date.now() + 3_600_000), "alice");
    expect(await manager.authHeaders()).toEqual({ Authorization: "Bearer acc" });
    expect(JSON.parse(storage.getItem(STORAGE_KEY)!)).toMatchObject({ username: "alice", accessToken: "acc", refreshToken: "ref" });
    // A new page in the same tab picks it up.
    const again = new AuthManager({ refresh: vi.fn(), revoke: vi.fn() }, { storage });
    expect(again.state.status).toBe("signed-in");
    manager.signOut();
    expect(storage.getItem(STORAGE_KEY)).toBeNull();
  });

  it("signing out forgets the session at once and revokes its refresh token, even when Cognito refuses", async () => {
    const { storage, cognito, manager } = setup(
      async () => tokens("x", 0),
      async () => {
        throw new CognitoError("ServiceError", "down", 500, true);
      },
    );
    manager.signedIn(tokens("acc", Date.now() + 3_600_000, "ref-1"), "alice");
    const done = manager.signOutAndRevoke();
    expect(manager.state).toEqual({ status: "signed-out", reason: null });
    expect(storage.getItem(STORAGE_KEY)).toBeNull();
    await done;
    expect(cognito.revoke).toHaveBeenCalledWith("ref-1");
    await manager.signOutAndRevoke();
    expect(cognito.revoke).toHaveBeenCalledTimes(1);
  });

  it("ignores a damaged stored session", () => {
    const storage = new MemoryStorage();
    storage.setItem(STORAGE_KEY, "{not json");
    expect(new AuthManager({ refresh: vi.fn(), revoke: vi.fn() }, { storage }).state).toEqual({ status: "signed-out", reason: null });
    storage.setItem(STORAGE_KEY, JSON.stringify({ username: "a" }));
    expect(new AuthManager({ refresh: vi.fn(), revoke: vi.fn() }, { storage }).state.status).toBe("signed-out");
  });

  it("refreshes by itself shortly before the access token expires", async () => {
    const { cognito, manager } = setup(async () => tokens("acc2", Date.now() + 3_600_000));
    manager.signedIn(tokens("acc", Date.now() + 3_600_000), "alice");
    await vi.advanceTimersByTimeAsync(3_600_000 - REFRESH_MARGIN_MS - 1000);
    expect(cognito.refresh).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(2000);
    expect(cognito.refresh).toHaveBeenCalledWith("ref");
    expect(await manager.authHeaders()).toEqual({ Authorization: "Bearer acc2" });
  });

  it("refreshes before a call when the token is about to expire, once for parallel calls", async () => {
    const { cognito, manager } = setup(async () => tokens("acc2", Date.now() + 3_600_000));
    manager.signedIn(tokens("acc", Date.now() + 30_000), "alice");
    const [a, b] = await Promise.all([manager.authHeaders(), manager.authHeaders()]);
    expect(a).toEqual({ Authorization: "Bearer acc2" });
    expect(b).toEqual(a);
    expect(cognito.refresh).toHaveBeenCalledTimes(1);
  });

  it("on a 401 refreshes once and asks for a retry; a 401 on the retry signs out", async () => {
    const { cognito, manager, states } = setup(async () => tokens("acc2", Date.now() + 3_600_000));
    manager.signedIn(tokens("acc", Date.now() + 3_600_000), "alice");
    expect(await manager.onUnauthorized({ Authorization: "Bearer acc" }, false)).toBe(true);
    expect(cognito.refresh).toHaveBeenCalledTimes(1);
    // A call that failed with the old token while the refresh ran just retries.
    expect(await manager.onUnauthorized({ Authorization: "Bearer acc" }, false)).toBe(true);
    expect(cognito.refresh).toHaveBeenCalledTimes(1);
    expect(await manager.onUnauthorized({ Authorization: "Bearer acc2" }, true)).toBe(false);
    expect(states.at(-1)).toEqual({ status: "signed-out", reason: "The server did not accept your session. Sign in again." });
  });

  it("signs out when the refresh token is refused", async () => {
    const { manager, states } = setup(async () => {
      throw new CognitoError("NotAuthorizedException", "Your session has ended. Sign in again.", 400, false);
    });
    manager.signedIn(tokens("acc", Date.now() + 3_600_000), "alice");
    expect(await manager.onUnauthorized({ Authorization: "Bearer acc" }, false)).toBe(false);
    expect(states.at(-1)).toEqual({ status: "signed-out", reason: "Your session has ended. Sign in again." });
    expect(await manager.authHeaders()).toEqual({});
  });

  it("keeps a still-valid session when a timed refresh fails for a passing reason, and tries again", async () => {
    let fail = true;
    const { cognito, manager } = setup(async () => {
      if (fail) throw new CognitoError("NetworkError", "offline", 0, true);
      return tokens("acc2", Date.now() + 3_600_000);
    });
    manager.signedIn(tokens("acc", Date.now() + REFRESH_MARGIN_MS + 5000), "alice");
    await vi.advanceTimersByTimeAsync(5000);
    expect(cognito.refresh).toHaveBeenCalledTimes(1);
    expect(manager.state.status).toBe("signed-in");
    fail = false;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(cognito.refresh).toHaveBeenCalledTimes(2);
    expect(await manager.authHeaders()).toEqual({ Authorization: "Bearer acc2" });
  });

  it("takes the user name from the access token when it has one", () => {
    const { manager } = setup(async () => tokens("x", 0));
    const payload = Buffer.from(JSON.stringify({ username: "alice-real" })).toString("base64url");
    manager.signedIn(tokens(`h.${payload}.s`, Date.now() + 3_600_000), "ALICE");
    expect(manager.state.status === "signed-in" && manager.state.session.username).toBe("alice-real");
  });
});
