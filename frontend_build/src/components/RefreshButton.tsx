/**
 * A refresh button that never disables itself: polling reloads in the background, and a button that
 * turned disabled under the keyboard focus would drop the focus. A small spinner shows a load.
 */
export function RefreshButton({ onClick, busy, label }: { onClick: () => void; busy: boolean; label?: string }) {
  return (
    <button type="button" className="btn" onClick={onClick} aria-label={label} aria-busy={busy}>
      <span className={busy ? "spinner spinner-small" : "spinner-slot"} aria-hidden="true" />
      Refresh
    </button>
  );
}
