// Checks on the settings form, the same rules the app applies when saving
// (src-tauri/src/settings.rs), so mistakes show before the round trip.

export const MAX_NAME_CHARS = 64;

export function checkDisplayName(name: string): string | null {
  if ([...name.trim()].length > MAX_NAME_CHARS) {
    return `The display name can have at most ${MAX_NAME_CHARS} characters.`;
  }
  return null;
}

/** The first shortcut used for two actions, if any. */
export function shortcutClash(keys: string[]): string | null {
  const seen = new Set<string>();
  for (const key of keys.map((k) => k.trim().toLowerCase()).filter((k) => k !== "")) {
    if (seen.has(key)) return `Two shortcuts are both ${key}; give each action its own keys.`;
    seen.add(key);
  }
  return null;
}

/** "Ctrl+Shift+H" from a key event, for the shortcut recorder. */
export function shortcutFromEvent(e: {
  ctrlKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
  metaKey: boolean;
  key: string;
}): string | null {
  if (["Control", "Alt", "Shift", "Meta"].includes(e.key)) return null;
  const parts = [];
  if (e.ctrlKey) parts.push("Ctrl");
  if (e.altKey) parts.push("Alt");
  if (e.shiftKey) parts.push("Shift");
  if (e.metaKey) parts.push("Meta");
  parts.push(keyName(e.key));
  return parts.join("+");
}

/** How a key is written in a shortcut: letters upper case, " " as Space. */
export function keyName(key: string): string {
  if (key === " ") return "Space";
  return key.length === 1 ? key.toUpperCase() : key;
}
