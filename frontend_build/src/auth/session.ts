/**
 * The signed-in session: tokens kept in sessionStorage (gone when the tab closes; never
 * localStorage), the Authorization header for every API call, refresh with the refresh token
 * shortly before the access token expires and once on a 401, and sign-out, which also revokes the
 * refresh token at Cognito. A refresh that fails for good signs out, and the console shows the
 * sign-in page again.
 */
import { CognitoError, jwtClaims, type CognitoClient, type Tokens } from "./cognito";

export const STORAGE_KEY = "kraken.session";
/** Refresh when less than this is left of the access token's life. */
export const REFRESH_MARGIN_MS = 120_000;
/** After a refresh that failed for a passing reason (network, throttling), try again this much later. */
export const RETRY_REFRESH_MS = 30_000;

export interface Session extends Tokens {
  username: string;
}

export type AuthState = { status: "signed-in"; session: Session } | { status: "signed-out"; reason: string | null };

type StorageLike = Pick<Storage, "getItem" | "setItem" | "removeItem">;

function isSession(value: unknown): value is Session {
  if (!value || typeof value !== "object") return false;
  const s = value as Record<string, unknown>;
  return (
    typeof s.username === "string" &&
    typeof s.accessToken === "string" &&
    typeof s.refreshToken === "string" &&
    typeof s.expiresAt === "number"
  );
}

/** The user name Cognito put in the access token, else what was typed. */
export function usernameOf(tokens: Pick<Tokens, "accessToken">, typed: string): string {
  const claims = jwtClaims(tokens.accessToken);
  const name = claims.username ?? claims["cognito:username"];
  return typeof name === "string" && name ? name : typed;
}

export class AuthManager {
  private current: AuthState;
  private readonly listeners = new Set<(state: AuthState) => void>();
  private inflight: Promise<boolean> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly cognito: Pick<CognitoClient, "refresh" | "revoke">;
  private readonly storage: StorageLike | null;
  private readonly now: () => number;

  constructor(cognito: Pick<CognitoClient, "refresh" | "revoke">, options: { storage?: StorageLike | null; now?: () => number } = {}) {
    this.cognito = cognito;
    this.storage = options.storage === undefined ? safeSessionStorage() : options.storage;
    this.now = options.now ?? Date.now;
    const saved = this.load();
    this.current = saved ? { status: "signed-in", session: saved } : { status: "signed-out", reason: null };
    if (saved) this.schedule(saved);
  }

  get state(): AuthState {
    return this.current;
  }

  subscribe(listener: (state: AuthState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  signedIn(tokens: Tokens, typedUsername: string): void {
    this.set({ status: "signed-in", session: { ...tokens, username: usernameOf(tokens, typedUsername) } });
  }

  signOut(reason: string | null = null): void {
    this.set({ status: "signed-out", reason });
  }

  /**
   * The user signs out: the session is forgotten here at once, and its refresh token is revoked at
   * Cognito so a copy of it (another tab, a leaked sessionStorage) cannot mint new access tokens.
   * The page does not wait for Cognito; if revoking fails the token lives until it expires.
   */
  signOutAndRevoke(): Promise<void> {
    const state = this.current;
    this.signOut(null);
    if (state.status !== "signed-in") return Promise.resolve();
    return this.cognito.revoke(state.session.refreshToken).catch(() => {});
  }

  /** The Authorization header for an API call; refreshes first when the token is about to expire. */
  authHeaders = async (): Promise<Record<string, string>> => {
    if (this.current.status === "signed-in" && this.current.session.expiresAt - this.now() < REFRESH_MARGIN_MS) {
      await this.refresh();
    }
    return this.current.status === "signed-in" ? { Authorization: `Bearer ${this.current.session.accessToken}` } : {};
  };

  /**
   * The API answered 401 to a call made with `used` headers. Returns whether to send it once more:
   * yes when the token has changed meanwhile or a refresh worked. A 401 on that retry signs out.
   */
  onUnauthorized = async (used: Record<string, string>, afterRetry = false): Promise<boolean> => {
    if (this.current.status !== "signed-in") return false;
    if (afterRetry) {
      this.signOut("The server did not accept your session. Sign in again.");
      return false;
    }
    if (used.Authorization !== `Bearer ${this.current.session.accessToken}`) return true;
    return this.refresh(true);
  };

  /** One refresh at a time; every caller waits for the same one. */
  refresh(force = false): Promise<boolean> {
    if (!this.inflight) {
      this.inflight = this.doRefresh(force).finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  private async doRefresh(force: boolean): Promise<boolean> {
    const state = this.current;
    if (state.status !== "signed-in") return false;
    const session = state.session;
    try {
      const tokens = await this.cognito.refresh(session.refreshToken);
      if (this.current.status !== "signed-in" || this.current.session.refreshToken !== session.refreshToken) return false;
      this.set({ status: "signed-in", session: { ...tokens, username: session.username } });
      return true;
    } catch (err) {
      if (this.current.status !== "signed-in" || this.current.session !== session) return false;
      const passing = err instanceof CognitoError && err.retryable;
      if (passing && !force && session.expiresAt > this.now()) {
        // Still valid for a while: keep it and try again later.
        this.schedule(session, RETRY_REFRESH_MS);
        return false;
      }
      this.signOut("Your session has ended. Sign in again.");
      return false;
    }
  }

  private set(state: AuthState): void {
    this.current = state;
    this.clearTimer();
    if (state.status === "signed-in") {
      this.save(state.session);
      this.schedule(state.session);
    } else {
      this.storage?.removeItem(STORAGE_KEY);
    }
    for (const listener of [...this.listeners]) listener(state);
  }

  private schedule(session: Session, delay?: number): void {
    this.clearTimer();
    const wait = delay ?? Math.max(1000, session.expiresAt - REFRESH_MARGIN_MS - this.now());
    // Timers longer than ~24.8 days overflow; tokens never live that long.
    this.timer = setTimeout(() => void this.refresh(), Math.min(wait, 2_000_000_000));
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private load(): Session | null {
    try {
      const raw = this.storage?.getItem(STORAGE_KEY);
      const parsed: unknown = raw ? JSON.parse(raw) : null;
      return isSession(parsed) ? parsed : null;
    } catch {
      return null;
    }
  }

  private save(session: Session): void {
    try {
      this.storage?.setItem(STORAGE_KEY, JSON.stringify(session));
    } catch {
      /* storage full or blocked: the session lasts as long as the page */
    }
  }
}

function safeSessionStorage(): StorageLike | null {
  try {
    return typeof sessionStorage === "undefined" ? null : sessionStorage;
  } catch {
    return null;
  }
}
