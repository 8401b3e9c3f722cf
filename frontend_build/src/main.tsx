/** Entry point: read /config.json, set up sign-in (when configured), build the API client, render. */
import { StrictMode, type ReactNode } from "react";
import { createRoot } from "react-dom/client";
import { ApiClient, loadRuntimeConfig } from "./api/client";
import { AppProvider, NoticeProvider } from "./context";
import { App } from "./App";
import { AuthGate } from "./auth/AuthGate";
import { CognitoClient, authSettingsFrom } from "./auth/cognito";
import { AuthManager } from "./auth/session";
import { NoAuthUserProvider } from "./auth/user";
import "./styles.css";

async function start(): Promise<void> {
  const config = await loadRuntimeConfig();
  // No `auth` block in config.json: the server has no sign-in, and neither has the console.
  const settings = authSettingsFrom(config);
  const cognito = settings ? new CognitoClient(settings) : null;
  const auth = cognito ? new AuthManager(cognito) : null;
  const api = new ApiClient({
    baseUrl: config.apiBase,
    // The one place the Authorization header comes from (Bearer <Cognito access token>).
    authHeaders: auth ? auth.authHeaders : undefined,
    onUnauthorized: auth ? auth.onUnauthorized : undefined,
  });
  const root = document.getElementById("root");
  if (!root) throw new Error("#root is missing from index.html");
  const app: ReactNode = (
    <NoticeProvider>
      <App />
    </NoticeProvider>
  );
  createRoot(root).render(
    <StrictMode>
      <AppProvider api={api} config={config}>
        {auth && cognito ? (
          <AuthGate manager={auth} cognito={cognito} stage={config.stage}>
            {app}
          </AuthGate>
        ) : (
          <NoAuthUserProvider>{app}</NoAuthUserProvider>
        )}
      </AppProvider>
    </StrictMode>,
  );
}

void start();
