/** The shell: header with stage and API status, and the screen for the current hash route. */
import { useEffect, useState } from "react";
import { useApi, useApp } from "./context";
import { useAsync } from "./hooks/useAsync";
import { href, parseRoute, type Route } from "./lib/routes";
import { PageTitle } from "./components/PageTitle";
import { ModelsList } from "./pages/ModelsList";
import { CreateModelPage, EditModelPage } from "./pages/ModelForm";
import { ModelDetail } from "./pages/detail/ModelDetail";
import { useUser } from "./auth/user";
import { deniedReason } from "./auth/roles";

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

/** The signed-in user, their role and the sign-out button. */
function UserMenu() {
  const user = useUser();
  return (
    <span className="user-menu">
      <span className="user-name" data-testid="user-name">
        {user.username}
      </span>
      <span className={`role-badge role-${user.role ?? "none"}`} title="Your role" data-testid="user-role">
        {user.role ?? "no role"}
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
    <>
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
        <nav aria-label="Main">
          <a href={href({ page: "list" })}>Models</a>
        </nav>
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
    </>
  );
}

/** Said once, under the header, when the role cannot change anything. */
function RoleBanner() {
  const user = useUser();
  if (!user.confirmed || user.role === "editor" || user.role === "admin") return null;
  return (
    <p className="banner banner-info role-banner" role="status">
      {user.role === "viewer"
        ? "You have the viewer role: you can see models and their activity, but not change them."
        : "Your account has no role yet, so the server refuses every request. Ask an administrator to add you to a group (viewer, editor or admin)."}
    </p>
  );
}

function NotAllowed({ reason }: { reason: string }) {
  return (
    <section className="page">
      <PageTitle>Not allowed</PageTitle>
      <p>{reason}</p>
      <a href={href({ page: "list" })}>Go to the models</a>
    </section>
  );
}

function Screen({ route }: { route: Route }) {
  const { role } = useUser();
  switch (route.page) {
    case "list":
      return <ModelsList />;
    case "create": {
      const denied = deniedReason(role, "create");
      return denied ? <NotAllowed reason={denied} /> : <CreateModelPage />;
    }
    case "edit": {
      const denied = deniedReason(role, "edit");
      return denied ? <NotAllowed reason={denied} /> : <EditModelPage key={route.id} id={route.id} />;
    }
    case "detail":
      return <ModelDetail key={route.id} id={route.id} tab={route.tab} />;
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
