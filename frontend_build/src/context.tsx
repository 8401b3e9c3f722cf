/** What every screen needs: the API client, the runtime config, and the notice area. */
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";
import type { ApiClient } from "./api/client";
import type { RuntimeConfig } from "./api/types";

interface AppContextValue {
  api: ApiClient;
  config: RuntimeConfig;
}

const AppContext = createContext<AppContextValue | null>(null);

export function AppProvider({ api, config, children }: AppContextValue & { children: ReactNode }) {
  const value = useMemo(() => ({ api, config }), [api, config]);
  return <AppContext.Provider value={value}>{children}</AppContext.Provider>;
}

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error("useApp outside AppProvider");
  return value;
}

export function useApi(): ApiClient {
  return useApp().api;
}

// --- notices: short confirmations and failures of actions, announced politely -----------------

export interface Notice {
  id: number;
  kind: "success" | "error" | "info";
  text: string;
}

type Notify = (text: string, kind?: Notice["kind"]) => void;
const NoticeContext = createContext<Notify>(() => {});

export function NoticeProvider({ children }: { children: ReactNode }) {
  const [notices, setNotices] = useState<Notice[]>([]);
  const nextId = useRef(1);
  const dismiss = useCallback((id: number) => setNotices((list) => list.filter((n) => n.id !== id)), []);
  const notify = useCallback<Notify>(
    (text, kind = "success") => {
      const id = nextId.current++;
      setNotices((list) => [...list.slice(-3), { id, kind, text }]);
      window.setTimeout(() => dismiss(id), kind === "error" ? 10_000 : 5_000);
    },
    [dismiss],
  );
  return (
    <NoticeContext.Provider value={notify}>
      {children}
      <div className="notices" role="status" aria-live="polite">
        {notices.map((n) => (
          <div key={n.id} className={`notice notice-${n.kind}`}>
            <span>{n.text}</span>
            <button type="button" className="btn-icon" aria-label="Dismiss" onClick={() => dismiss(n.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </NoticeContext.Provider>
  );
}

export function useNotify(): Notify {
  return useContext(NoticeContext);
}
