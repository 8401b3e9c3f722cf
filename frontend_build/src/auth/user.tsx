/**
 * Who is using the console: the signed-in user and their role, for every screen. The role comes
 * from GET /api/me; until that answers (or if it fails) it is read from the access token's
 * `cognito:groups` claim, for display only — the server checks every call itself. Without sign-in
 * configured (no `auth` in /config.json) the server accepts everyone, so the console shows everything.
 */
import { createContext, useContext, useMemo, type ReactNode } from "react";
import { useApi } from "../context";
import { useAsync } from "../hooks/useAsync";
import { jwtClaims } from "./cognito";
import { isRole, roleFromGroups, type Role } from "./roles";
import type { AuthManager, Session } from "./session";

export interface User {
  /** False when the server has no sign-in: no user menu, every control shown. */
  authEnabled: boolean;
  username: string | null;
  role: Role | null;
  /** GET /api/me has answered (the role is the server's, not the token's). */
  confirmed: boolean;
  signOut: () => void;
}

const NO_AUTH: User = { authEnabled: false, username: null, role: "admin", confirmed: true, signOut: () => {} };

const UserContext = createContext<User>(NO_AUTH);

export function useUser(): User {
  return useContext(UserContext);
}

export function NoAuthUserProvider({ children }: { children: ReactNode }) {
  return <UserContext.Provider value={NO_AUTH}>{children}</UserContext.Provider>;
}

export function SignedInUserProvider({ session, manager, children }: { session: Session; manager: AuthManager; children: ReactNode }) {
  const api = useApi();
  const me = useAsync((signal) => api.me(signal), [api, session.username]);
  const tokenRole = useMemo(() => roleFromGroups(jwtClaims(session.accessToken)["cognito:groups"]), [session.accessToken]);
  const value = useMemo<User>(() => {
    const data = me.data;
    return {
      authEnabled: true,
      username: data?.username || session.username,
      role: data ? (isRole(data.role) ? data.role : null) : tokenRole,
      confirmed: !!data,
      signOut: () => manager.signOut(null),
    };
  }, [me.data, session.username, tokenRole, manager]);
  return <UserContext.Provider value={value}>{children}</UserContext.Provider>;
}
