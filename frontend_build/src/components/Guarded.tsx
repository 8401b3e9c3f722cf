/**
 * Controls that cannot be used now (the user's role does not allow them, or the model is not ready,
 * such as Start before its file is uploaded): shown disabled with the reason as a tooltip (and to
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
