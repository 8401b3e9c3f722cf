/**
 * Hash routes (#/models/<id>/requests): they need no server rewrite rules, so the same static
 * files work at "/" in local mode, behind CloudFront and from any sub-path.
 */

export const DETAIL_TABS = [
  "operations",
  "versions",
  "history",
  "rollout",
  "replays",
  "requests",
  "container-logs",
  "metrics",
  "clients",
] as const;
export type DetailTab = (typeof DETAIL_TABS)[number];

export type Route =
  | { page: "list" }
  | { page: "create" }
  | { page: "detail"; id: string; tab: DetailTab }
  | { page: "edit"; id: string }
  | { page: "projects" }
  | { page: "project"; name: string }
  | { page: "not-found"; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "").replace(/\?.*$/, "");
  const parts = path
    .split("/")
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "models")) return { page: "list" };
  if (parts[0] === "projects") {
    if (parts.length === 1) return { page: "projects" };
    if (parts.length === 2) return { page: "project", name: parts[1] as string };
    return { page: "not-found", path };
  }
  if (parts[0] !== "models") return { page: "not-found", path };
  const id = parts[1] as string;
  if (parts.length === 2) return id === "new" ? { page: "create" } : { page: "detail", id, tab: "operations" };
  if (parts.length === 3) {
    const sub = parts[2] as string;
    if (sub === "edit") return { page: "edit", id };
    if ((DETAIL_TABS as readonly string[]).includes(sub)) return { page: "detail", id, tab: sub as DetailTab };
  }
  return { page: "not-found", path };
}

export function href(route: Route): string {
  switch (route.page) {
    case "list":
      return "#/models";
    case "create":
      return "#/models/new";
    case "detail":
      return route.tab === "operations"
        ? `#/models/${encodeURIComponent(route.id)}`
        : `#/models/${encodeURIComponent(route.id)}/${route.tab}`;
    case "edit":
      return `#/models/${encodeURIComponent(route.id)}/edit`;
    case "projects":
      return "#/projects";
    case "project":
      return `#/projects/${encodeURIComponent(route.name)}`;
    case "not-found":
      return `#${route.path}`;
  }
}

export function navigate(route: Route, options: { replace?: boolean } = {}): void {
  const target = href(route);
  if (options.replace) window.location.replace(target);
  else window.location.hash = target;
}
