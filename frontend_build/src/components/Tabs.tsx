/** ARIA tabs whose selection lives in the URL; arrow keys, Home and End move between them. */
import type { KeyboardEvent, ReactNode } from "react";

export interface TabDef<T extends string> {
  id: T;
  label: string;
  href: string;
}

export function Tabs<T extends string>({
  tabs,
  current,
  label,
  children,
}: {
  tabs: TabDef<T>[];
  current: T;
  label: string;
  children: ReactNode;
}) {
  const onKeyDown = (e: KeyboardEvent<HTMLAnchorElement>) => {
    const index = tabs.findIndex((t) => t.id === current);
    let next = -1;
    if (e.key === "ArrowRight") next = (index + 1) % tabs.length;
    else if (e.key === "ArrowLeft") next = (index - 1 + tabs.length) % tabs.length;
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = tabs.length - 1;
    if (next < 0) return;
    e.preventDefault();
    const tab = tabs[next];
    if (!tab) return;
    window.location.replace(tab.href);
    window.requestAnimationFrame(() => document.getElementById(`tab-${tab.id}`)?.focus());
  };
  return (
    <div className="tabs">
      <div role="tablist" aria-label={label} className="tablist">
        {tabs.map((t) => (
          <a
            key={t.id}
            id={`tab-${t.id}`}
            role="tab"
            href={t.href}
            aria-selected={t.id === current}
            aria-controls={`panel-${t.id}`}
            tabIndex={t.id === current ? 0 : -1}
            className="tab"
            onClick={(e) => {
              e.preventDefault();
              window.location.replace(t.href);
            }}
            onKeyDown={onKeyDown}
          >
            {t.label}
          </a>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${current}`} aria-labelledby={`tab-${current}`} className="tabpanel" tabIndex={0}>
        {children}
      </div>
    </div>
  );
}
