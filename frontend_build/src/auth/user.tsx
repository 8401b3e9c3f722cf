/**
 * Who is using the console: the signed-in user and their roles, for every screen. The roles come
 * from GET /api/me (the stage-wide role and one per project); until that answers (or if it fails)
 * the stage role is read from the access token's `cognito:groups` claim, for display only — the
 * server checks every call itself.
 */
import { createContext, useContext, useMemo, type ReactNode } from "react";
import { useApi } from "../context";
import { useAsync } from "../hooks/useAsync";
import { jwtClaims } from "./cognito";
import { isRole, roleFromGroups, roleIn, type ProjectRole, type Role, type Roles } from "./roles";
import type { AuthManager, Session } from "./session";

export interface User {
  username: string;
  /** The stage-wide role (a Cognito group), which holds in every project. */
  role: Role | null;
  /** The stage role and the role in each project the user has one in. */
  roles: Roles;
  /** GET /api/me has answered (the roles are the server's, not the token's). */
  confirmed: boolean;
  /** GET /api/me has not answered yet (neither with the roles nor with an error). */
  pending: boolean;
  /** Asks GET /api/me again (after a change of the user's own memberships). */
  reload: () => void;
  signOut: () => void;
}

const UserContext = createContext<User | null>(null);

export function useUser(): User {
  const user = useContext(UserContext);
  if (!user) throw new Error("useUser outside SignedInUserProvider");
  return user;
}

/** The user's role in one project (a model's): the higher of the stage role and the membership there. */
export function useRoleIn(project: string): Role | null {
  return roleIn(useUser().roles, project);
}

export function SignedInUserProvider({ session, manager, children }: { session: Session; manager: AuthManager; children: ReactNode }) {
  const api = useApi();
  const me = useAsync((signal) => api.me(signal), [api, session.username]);
  const tokenRole = useMemo(() => roleFromGroups(jwtClaims(session.accessToken)["cognito:groups"]), [session.accessToken]);
  const value = useMemo<User>(() => {
    const data = me.data;
    const role = data ? (isRole(data.role) ? data.role : null) : tokenRole;
    const projects: ProjectRole[] = (data?.projects ?? []).filter((p): p is ProjectRole => isRole(p.role));
    return {
      username: data?.username || session.username,
      role,
      roles: { stage: role, projects },
      confirmed: !!data,
      pending: !data && me.loading,
      reload: me.reload,
      signOut: () => void manager.signOutAndRevoke(),
    };
  }, [me.data, me.loading, me.reload, session.username, tokenRole, manager]);
  return <UserContext.Provider value={value}>{children}</UserContext.Provider>;
}
