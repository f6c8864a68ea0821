// What the meeting screen offers when joining failed: the app's sentence
// and one way forward for each kind of failure.

import type { JoinFailure } from "../generated/app/JoinFailure";

export type Remedy =
  /** Ask for the passcode and join again. */
  | "passcode"
  /** Join again as it is (a line may free up, the host may come up). */
  | "retry"
  /** Show both fingerprints and offer to trust the new certificate. */
  | "trust"
  /** Nothing to do here: back to Home to check the link. */
  | "home";

export interface FailureView {
  title: string;
  sentence: string;
  remedy: Remedy;
  /** The main button's text. */
  action: string;
}

/** The screen for a failed join. */
export function failureView(f: JoinFailure): FailureView {
  const view = (title: string, remedy: Remedy, action: string): FailureView => ({
    title,
    sentence: f.message,
    remedy,
    action,
  });
  switch (f.kind) {
    case "wrong_passcode":
      return view("This meeting needs its passcode", "passcode", "Join with this passcode");
    case "locked":
      return view("The meeting is locked", "retry", "Try again");
    case "full":
      return view("All lines are in use", "retry", "Try again");
    case "unreachable":
      return view("The host does not answer", "retry", "Try again");
    case "certificate_changed":
      return view("The host's certificate changed", "trust", "Trust the new certificate");
    case "not_found":
      return view("No such meeting", "home", "Back to Home");
    case "bad_address":
    case "no_host":
      return view("Which host?", "home", "Back to Home");
    case "already_in_meeting":
      return view("Already in a meeting", "home", "Back to Home");
    case "other":
      return view("Could not join", "retry", "Try again");
  }
}

/** A failure from a command that was not a join failure (a lost app). */
export function asJoinFailure(e: unknown): JoinFailure {
  if (typeof e === "object" && e !== null && "kind" in e && "message" in e) return e as JoinFailure;
  const message = typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e);
  return { kind: "other", message, server: null, old_fingerprint: null, new_fingerprint: null };
}
