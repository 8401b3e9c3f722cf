/**
 * Who is using the console: the signed-in user and their role, for every screen. The role comes
 * from GET /api/me; until that answers (or if it fails) it is read from the access token's
 * `cognito:groups` claim, for display only — the server checks every call itself.
 */
import { createContext, useContext, useMemo, type ReactNode } from "react";
import { useApi } from "../context";
import { useAsync } from "../hooks/useAsync";
import { jwtClaims } from "./cognito";
import { isRole, roleFromGroups, type Role } from "./roles";
import type { AuthManager, Session } from "./session";

export interface User {
  username: string;
  role: Role | null;
  /** GET /api/me has answered (the role is the server's, not the token's). */
  confirmed: boolean;
  signOut: () => void;
}

const UserContext = createContext<User | null>(null);

export function useUser(): User {
  const user = useContext(UserContext);
  if (!user) throw new Error("useUser outside SignedInUserProvider");
  return user;
}

export function SignedInUserProvider({ session, manager, children }: { session: Session; manager: AuthManager; children: ReactNode }) {
  const api = useApi();
  const me = useAsync((signal) => api.me(signal), [api, session.username]);
  const tokenRole = useMemo(() => roleFromGroups(jwtClaims(session.accessToken)["cognito:groups"]), [session.accessToken]);
  const value = useMemo<User>(() => {
    const data = me.data;
    return {
      username: data?.username || session.username,
      role: data ? (isRole(data.role) ? data.role : null) : tokenRole,
      confirmed: !!data,
      signOut: () => void manager.signOutAndRevoke(),
    };
  }, [me.data, session.username, tokenRole, manager]);
  return <UserContext.Provider value={value}>{children}</UserContext.Provider>;
}
