/** A small labelled control for toolbars; the label points at the control by id (not by wrapping it), so its accessible name is just the label. */
import { cloneElement, useId, type ReactElement } from "react";

export function InlineField({ label, children }: { label: string; children: ReactElement<{ id?: string }> }) {
  const id = useId();
  return (
    <div className="field-inline">
      <label htmlFor={id} className="label">
        {label}
      </label>
      {cloneElement(children, { id })}
    </div>
  );
}
