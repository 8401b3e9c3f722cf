/**
 * Controls the user's role does not allow: shown disabled with the reason as a tooltip (and to
 * screen readers), still focusable so keyboard users can read why. The server refuses them anyway.
 */
import type { ReactNode } from "react";

export function DeniedButton({ reason, className, children }: { reason: string; className?: string; children: ReactNode }) {
  return (
    <button
      type="button"
      className={`${className ?? "btn"} btn-denied`}
      aria-disabled="true"
      title={reason}
      aria-description={reason}
      onClick={(e) => e.preventDefault()}
    >
      {children}
    </button>
  );
}
