// What the confirmation dialog asks, and what it does when confirmed.

export interface ConfirmRequest {
  title: string;
  /** One or two sentences saying what will happen. */
  message: string;
  /** The button that does it, e.g. "Remove". */
  confirmLabel: string;
  /** Runs on confirm; a thrown error is shown in the dialog, which stays open. */
  action: () => Promise<void>;
}
