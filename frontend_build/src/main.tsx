/** Entry point: read /config.json, build the API client, render the app. */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ApiClient, loadRuntimeConfig } from "./api/client";
import { AppProvider, NoticeProvider } from "./context";
import { App } from "./App";
import "./styles.css";

async function start(): Promise<void> {
  const config = await loadRuntimeConfig();
  // Sign-in (a later issue) plugs in here: authHeaders: () => ({ Authorization: `Bearer ${token}` }).
  const api = new ApiClient({ baseUrl: config.apiBase });
  const root = document.getElementById("root");
  if (!root) throw new Error("#root is missing from index.html");
  createRoot(root).render(
    <StrictMode>
      <AppProvider api={api} config={config}>
        <NoticeProvider>
          <App />
        </NoticeProvider>
      </AppProvider>
    </StrictMode>,
  );
}

void start();
