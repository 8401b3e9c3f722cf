/** Entry point: read /config.json, set up sign-in, build the API client, render. */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ApiClient, loadRuntimeConfig } from "./api/client";
import { AppProvider, NoticeProvider } from "./context";
import { App } from "./App";
import { AuthGate } from "./auth/AuthGate";
import { CognitoClient, authSettingsFrom } from "./auth/cognito";
import { AuthManager } from "./auth/session";
import "./styles.css";

async function start(): Promise<void> {
  const config = await loadRuntimeConfig();
  const root = document.getElementById("root");
  if (!root) throw new Error("#root is missing from index.html");
  // Every server of this project has sign-in: a config.json without it is a deployment mistake, said plainly.
  const settings = authSettingsFrom(config);
  if (!settings) {
    createRoot(root).render(
      <main className="signin" id="main">
        <div className="signin-card" role="alert">
          <h1>Sign-in is not configured</h1>
          <p>This console's config.json has no auth block (user pool and app client). Tell an administrator.</p>
        </div>
      </main>,
    );
    return;
  }
  const cognito = new CognitoClient(settings);
  const auth = new AuthManager(cognito);
  const api = new ApiClient({
    baseUrl: config.apiBase,
    // The one place the Authorization header comes from (Bearer <Cognito access token>).
    authHeaders: auth.authHeaders,
    onUnauthorized: auth.onUnauthorized,
  });
  createRoot(root).render(
    <StrictMode>
      <AppProvider api={api} config={config}>
        <AuthGate manager={auth} cognito={cognito} stage={config.stage} localUser={settings.localUser}>
          <NoticeProvider>
            <App />
          </NoticeProvider>
        </AuthGate>
      </AppProvider>
    </StrictMode>,
  );
}

void start();
