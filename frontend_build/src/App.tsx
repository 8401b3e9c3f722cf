/** The shell: header with the project switcher, stage and API status, and the screen for the current hash route. */
import { useEffect, useState } from "react";
import { useApi, useApp } from "./context";
import { useAsync } from "./hooks/useAsync";
import { href, parseRoute, type Route } from "./lib/routes";
import { PageTitle } from "./components/PageTitle";
import { ModelsList } from "./pages/ModelsList";
import { CreateModelPage, EditModelPage } from "./pages/ModelForm";
import { ModelDetail } from "./pages/detail/ModelDetail";
import { ProjectsPage } from "./pages/ProjectsPage";
import { ProjectMembersPage } from "./pages/ProjectMembersPage";
import { Loading } from "./components/States";
import { NotAllowed } from "./components/NotAllowed";
import { ProjectSwitcher } from "./components/ProjectSwitcher";
import { ProjectsProvider, useProjects } from "./projects";
import { useUser } from "./auth/user";
import { bestRole, deniedReason, roleIn, type Role } from "./auth/roles";

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

/** The signed-in user, their role (in the switcher's project, else stage-wide, else their highest) and the sign-out button. */
function UserMenu() {
  const user = useUser();
  const { selected } = useProjects();
  const { roles } = user;
  const shown: Role | null = selected ? roleIn(roles, selected) : (roles.stage ?? bestRole(roles));
  const perProject = roles.projects.filter((p) => p.role !== roles.stage).map((p) => `${p.role} in ${p.name}`);
  const title = [
    roles.stage ? `Your role: ${roles.stage} in every project` : "No stage-wide role",
    ...(perProject.length ? [perProject.join(", ")] : []),
  ].join("; ");
  return (
    <span className="user-menu">
      <span className="user-name" data-testid="user-name">
        {user.username}
      </span>
      <span className={`role-badge role-${shown ?? "none"}`} title={title} data-testid="user-role">
        {shown ?? "no role"}
      </span>
      <button type="button" className="btn btn-small" onClick={user.signOut}>
        Sign out
      </button>
    </span>
  );
}

function ApiStatus() {
  const api = useApi();
  const health = useAsync((signal) => api.health(signal), [api]);
  if (health.loading && !health.data) return null;
  if (health.error || !health.data)
    return (
      <span className="api-status api-down" title="GET /health failed">
        API unreachable
      </span>
    );
  return (
    <span className="api-status api-up" title={`API ${health.data.status}`}>
      API {health.data.version}
    </span>
  );
}

export function App() {
  const { config } = useApp();
  const route = useRoute();
  useEffect(() => {
    document.title = config.stage && config.stage !== "unknown" ? `Kraken (${config.stage})` : "Kraken";
  }, [config.stage]);

  return (
    <ProjectsProvider>
      <a
        className="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById("main")?.focus();
        }}
      >
        Skip to content
      </a>
      <header className="app-header">
        <a className="brand" href={href({ page: "list" })}>
          Kraken
        </a>
        <div className="header-nav">
          <nav aria-label="Main">
            <a href={href({ page: "list" })} aria-current={route.page === "list" ? "page" : undefined}>
              Models
            </a>
            <a href={href({ page: "projects" })} aria-current={route.page === "projects" ? "page" : undefined}>
              Projects
            </a>
          </nav>
          <ProjectSwitcher />
        </div>
        <span className="header-end">
          <span className="stage" title="Stage">
            {config.stage}
          </span>
          <ApiStatus />
          <UserMenu />
        </span>
      </header>
      <RoleBanner />
      <main id="main" tabIndex={-1}>
        <Screen route={route} />
      </main>
    </ProjectsProvider>
  );
}

/** Said once, under the header, when the user's roles cannot change anything in any project. */
function RoleBanner() {
  const user = useUser();
  const best = bestRole(user.roles);
  if (!user.confirmed || best === "editor" || best === "admin") return null;
  return (
    <p className="banner banner-info role-banner" role="status">
      {best === "viewer"
        ? "You have the viewer role: you can see models and their activity, but not change them."
        : "Your account has no role yet, so the server refuses every request. Ask an administrator to add you to a group (viewer, editor or admin) or to a project."}
    </p>
  );
}

function Screen({ route }: { route: Route }) {
  const user = useUser();
  // A screen that changes models waits for /me: a project membership may allow what the token's groups do not.
  const best = bestRole(user.roles);
  switch (route.page) {
    case "list":
      return <ModelsList />;
    case "create": {
      if (user.pending) return <Loading label="Loading your roles…" />;
      const denied = deniedReason(best, "create");
      return denied ? <NotAllowed reason={denied} /> : <CreateModelPage />;
    }
    case "edit": {
      if (user.pending) return <Loading label="Loading your roles…" />;
      // The role in the model's own project is checked once the model is loaded.
      const denied = deniedReason(best, "edit");
      return denied ? <NotAllowed reason={denied} /> : <EditModelPage key={route.id} id={route.id} />;
    }
    case "detail":
      return <ModelDetail key={route.id} id={route.id} tab={route.tab} />;
    case "projects":
      return <ProjectsPage />;
    case "project":
      return <ProjectMembersPage key={route.name} name={route.name} />;
    case "not-found":
      return (
        <section className="page">
          <PageTitle>Page not found</PageTitle>
          <p>
            There is nothing at <code>{route.path}</code>. <a href={href({ page: "list" })}>Go to the models</a>.
          </p>
        </section>
      );
  }
}
