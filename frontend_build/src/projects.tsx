/**
 * The projects the signed-in user sees (GET /projects) and the one the switcher has chosen, for every
 * screen. The choice is remembered in localStorage per user, so it survives a reload; a remembered project
 * the user no longer sees (deleted, or their role in it removed) falls back to all projects.
 */
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import type { Project } from "./api/types";
import { useApi } from "./context";
import { useAsync } from "./hooks/useAsync";
import { useUser } from "./auth/user";
import { chooseProject, projectStorageKey } from "./lib/projects";

export interface ProjectScope {
  /** The visible projects, by name; undefined until GET /projects answers. */
  projects: Project[] | undefined;
  error: unknown;
  /** GET /projects is being read (a first load or a reload). */
  loading: boolean;
  /** The switcher's project; null for all projects. */
  selected: string | null;
  /** The choice is settled: nothing was remembered, or the visible projects are known (or failed to load). */
  settled: boolean;
  select: (name: string | null) => void;
  /** Reads GET /projects again (after creating or deleting one, or a change of the user's memberships). */
  reload: () => void;
}

const ProjectContext = createContext<ProjectScope | null>(null);

export function useProjects(): ProjectScope {
  const scope = useContext(ProjectContext);
  if (!scope) throw new Error("useProjects outside ProjectsProvider");
  return scope;
}

function readStored(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null; // storage unavailable: all projects
  }
}

export function ProjectsProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const { username } = useUser();
  const key = projectStorageKey(username);
  const list = useAsync((signal) => api.listProjects(signal), [api, username]);
  const [remembered, setRemembered] = useState(() => readStored(key));
  const projects = list.data?.items;
  const selected = chooseProject(
    remembered,
    projects?.map((p) => p.name),
  );
  const settled = !remembered || projects !== undefined || list.error !== undefined;

  const select = useCallback(
    (name: string | null) => {
      setRemembered(name);
      try {
        if (name) window.localStorage.setItem(key, name);
        else window.localStorage.removeItem(key);
      } catch {
        /* not remembered; fine */
      }
    },
    [key],
  );

  const value = useMemo<ProjectScope>(
    () => ({ projects, error: list.error, loading: list.loading, selected, settled, select, reload: list.reload }),
    [projects, list.error, list.loading, selected, settled, select, list.reload],
  );
  return <ProjectContext.Provider value={value}>{children}</ProjectContext.Provider>;
}
