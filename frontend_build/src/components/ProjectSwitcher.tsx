/**
 * The header's project switcher: all projects, or one of those the user sees (with their role there).
 * The models list follows it; choosing a project from another screen goes to the list.
 */
import { useId } from "react";
import { useProjects } from "../projects";
import { navigate, parseRoute } from "../lib/routes";

export function ProjectSwitcher() {
  const { projects, selected, select } = useProjects();
  const id = useId();
  // The remembered choice stays shown while the list loads, so a reload does not flash "All projects".
  const names = projects ?? (selected ? [{ name: selected, role: null }] : []);
  return (
    <span className="project-switcher">
      <label htmlFor={id} className="visually-hidden">
        Show project
      </label>
      <select
        id={id}
        value={selected ?? ""}
        data-testid="project-switcher"
        aria-busy={projects === undefined}
        onChange={(e) => {
          select(e.target.value || null);
          if (parseRoute(window.location.hash).page !== "list") navigate({ page: "list" });
        }}
      >
        <option value="">All projects</option>
        {names.map((p) => (
          <option key={p.name} value={p.name}>
            {p.role ? `${p.name} (${p.role})` : p.name}
          </option>
        ))}
      </select>
    </span>
  );
}
