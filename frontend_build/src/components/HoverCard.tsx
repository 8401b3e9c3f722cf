/**
 * A small card shown while the pointer is on its trigger or the trigger has the focus (Escape hides it), as a
 * tooltip the trigger is described by. Placed with `position: fixed` under the trigger, so a scrolling table
 * around it does not cut it off.
 */
import { useId, useRef, useState, type ReactNode } from "react";

export function HoverCard({ trigger, label, children }: { trigger: ReactNode; label: string; children: ReactNode }) {
  const id = useId();
  const ref = useRef<HTMLButtonElement>(null);
  const [place, setPlace] = useState<{ top: number; left: number } | null>(null);

  const show = () => {
    const box = ref.current?.getBoundingClientRect();
    if (!box) return;
    // Under the trigger, kept within the window (the card is at most 20rem wide).
    const width = Math.min(320, window.innerWidth - 16);
    setPlace({ top: box.bottom, left: Math.max(8, Math.min(box.left, window.innerWidth - width - 8)) });
  };
  const hide = () => setPlace(null);

  return (
    <span className="hovercard-anchor" onMouseEnter={show} onMouseLeave={hide}>
      <button
        ref={ref}
        type="button"
        className="hovercard-trigger"
        aria-label={label}
        aria-describedby={id}
        onFocus={show}
        onBlur={hide}
        onKeyDown={(e) => {
          if (e.key === "Escape") hide();
        }}
      >
        {trigger}
      </button>
      <span id={id} role="tooltip" className="hovercard" hidden={!place} style={place ?? undefined}>
        {children}
      </span>
    </span>
  );
}
