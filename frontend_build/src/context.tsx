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
  /** What the notice is about ("start:<model id>"): a newer one with the same key replaces it, and `withdraw` removes it. */
  key?: string;
}

type Notify = (text: string, kind?: Notice["kind"], key?: string) => void;
const NoticeContext = createContext<{ notify: Notify; withdraw: (key: string) => void }>({ notify: () => {}, withdraw: () => {} });

export function NoticeProvider({ children }: { children: ReactNode }) {
  const [notices, setNotices] = useState<Notice[]>([]);
  const nextId = useRef(1);
  const dismiss = useCallback((id: number) => setNotices((list) => list.filter((n) => n.id !== id)), []);
  const withdraw = useCallback((key: string) => setNotices((list) => list.filter((n) => n.key !== key)), []);
  const notify = useCallback<Notify>(
    (text, kind = "success", key) => {
      const id = nextId.current++;
      setNotices((list) => [...list.filter((n) => !key || n.key !== key).slice(-3), { id, kind, text, key }]);
      window.setTimeout(() => dismiss(id), kind === "error" ? 10_000 : 5_000);
    },
    [dismiss],
  );
  const value = useMemo(() => ({ notify, withdraw }), [notify, withdraw]);
  return (
    <NoticeContext.Provider value={value}>
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
  return useContext(NoticeContext).notify;
}

/** Removes the notices about `key` once they stop being true (a start that has finished, a file now uploaded). */
export function useWithdrawNotice(): (key: string) => void {
  return useContext(NoticeContext).withdraw;
}
