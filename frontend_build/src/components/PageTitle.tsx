/** The page's h1. After a navigation it takes focus, so keyboard and screen-reader users start at the top of the new screen. */
import { useEffect, useRef, type ReactNode } from "react";

let initialLoad = true;

export function PageTitle({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (initialLoad) {
      initialLoad = false;
      return;
    }
    ref.current?.focus({ preventScroll: false });
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1} className="page-title">
      {children}
    </h1>
  );
}
