/** The shell: header with stage and API status, and the screen for the current hash route. */
import { useEffect, useState } from "react";
import { useApi, useApp } from "./context";
import { useAsync } from "./hooks/useAsync";
import { href, parseRoute, type Route } from "./lib/routes";
import { PageTitle } from "./components/PageTitle";
import { ModelsList } from "./pages/ModelsList";
import { CreateModelPage, EditModelPage } from "./pages/ModelForm";
import { ModelDetail } from "./pages/detail/ModelDetail";

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
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
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <Screen route={route} />
      </main>
    </>
  );
}

function Screen({ route }: { route: Route }) {
  switch (route.page) {
    case "list":
      return <ModelsList />;
    case "create":
      return <CreateModelPage />;
    case "edit":
      return <EditModelPage key={route.id} id={route.id} />;
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
