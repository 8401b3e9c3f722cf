/**
 * The one confirmation dialog: a question, Cancel, and a danger button that confirms (focused on
 * open unless the content asks for the focus itself, as a typed-name field does). The content sits
 * in a form, so Enter in a field confirms too.
 */
import { useId, type ReactNode } from "react";
import { Dialog } from "./Dialog";

export interface ConfirmDialogProps {
  open: boolean;
  title: string;
  confirmLabel: string;
  /** Shown on the button while `busy`. */
  busyLabel?: string;
  busy?: boolean;
  /** The confirming button is disabled (e.g. until the model's name is typed). */
  disabled?: boolean;
  onConfirm: () => void;
  onClose: () => void;
  children: ReactNode;
}

export function ConfirmDialog({
  open,
  title,
  confirmLabel,
  busyLabel,
  busy = false,
  disabled = false,
  onConfirm,
  onClose,
  children,
}: ConfirmDialogProps) {
  const formId = useId();
  return (
    <Dialog
      open={open}
      title={title}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={formId} className="btn btn-danger" data-autofocus disabled={disabled || busy}>
            {busy && busyLabel ? busyLabel : confirmLabel}
          </button>
        </>
      }
    >
      <form
        id={formId}
        onSubmit={(e) => {
          e.preventDefault();
          if (!disabled && !busy) onConfirm();
        }}
      >
        {children}
      </form>
    </Dialog>
  );
}
