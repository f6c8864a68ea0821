// Keyboard shortcuts in the meeting, from Settings: toggles on key down,
// and push to talk — while muted, holding the key opens the microphone
// until it is let go.

import type { Shortcuts } from "../generated/app/Shortcuts";
import { shortcutFromEvent } from "../settings-form";

export type Action = "toggle_microphone" | "toggle_camera" | "leave" | "raise_hand" | "talk_start" | "talk_end";

export interface KeyLike {
  type: string;
  key: string;
  repeat?: boolean;
  ctrlKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
  metaKey: boolean;
}

const TOGGLES = ["toggle_microphone", "toggle_camera", "leave", "raise_hand"] as const;

function same(a: string, b: string): boolean {
  return a !== "" && a.toLowerCase() === b.toLowerCase();
}

/**
 * The action a key event asks for. `muted` is the microphone's state and
 * `talking` whether push to talk holds it open now. Keys typed into a text
 * field (`typing`) are the field's, not shortcuts.
 */
export function shortcutAction(
  e: KeyLike,
  shortcuts: Shortcuts,
  state: { muted: boolean; talking: boolean; typing: boolean },
): Action | null {
  if (state.typing) return null;
  const pressed = shortcutFromEvent(e);
  if (pressed === null) return null;
  if (same(shortcuts.push_to_talk, pressed)) {
    if (e.type === "keydown" && !e.repeat && state.muted && !state.talking) return "talk_start";
    if (e.type === "keyup" && state.talking) return "talk_end";
    return null;
  }
  if (e.type !== "keydown" || e.repeat) return null;
  return TOGGLES.find((action) => same(shortcuts[action], pressed)) ?? null;
}

/** Whether an event's target takes typing (then keys are not shortcuts). */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}
