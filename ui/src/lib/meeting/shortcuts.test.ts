import { describe, expect, it } from "vitest";
import type { Shortcuts } from "../generated/app/Shortcuts";
import { shortcutAction, type KeyLike } from "./shortcuts";

const shortcuts: Shortcuts = {
  toggle_microphone: "Ctrl+D",
  toggle_camera: "Ctrl+E",
  leave: "Ctrl+Shift+H",
  push_to_talk: "Space",
  raise_hand: "Ctrl+Shift+R",
};

function key(type: string, k: string, mods: Partial<KeyLike> = {}): KeyLike {
  return { type, key: k, ctrlKey: false, altKey: false, shiftKey: false, metaKey: false, ...mods };
}

const idle = { muted: false, talking: false, typing: false };

describe("meeting shortcuts", () => {
  it("toggles on key down from the settings' keys", () => {
    expect(shortcutAction(key("keydown", "d", { ctrlKey: true }), shortcuts, idle)).toBe("toggle_microphone");
    expect(shortcutAction(key("keydown", "e", { ctrlKey: true }), shortcuts, idle)).toBe("toggle_camera");
    expect(shortcutAction(key("keydown", "H", { ctrlKey: true, shiftKey: true }), shortcuts, idle)).toBe("leave");
    expect(shortcutAction(key("keydown", "R", { ctrlKey: true, shiftKey: true }), shortcuts, idle)).toBe("raise_hand");
    expect(shortcutAction(key("keyup", "d", { ctrlKey: true }), shortcuts, idle)).toBeNull();
    expect(shortcutAction(key("keydown", "d", { ctrlKey: true, repeat: true }), shortcuts, idle)).toBeNull();
    expect(shortcutAction(key("keydown", "x"), shortcuts, idle)).toBeNull();
  });

  it("holding Space while muted talks until it is let go", () => {
    const muted = { muted: true, talking: false, typing: false };
    expect(shortcutAction(key("keydown", " "), shortcuts, muted)).toBe("talk_start");
    const talking = { muted: false, talking: true, typing: false };
    expect(shortcutAction(key("keydown", " ", { repeat: true }), shortcuts, talking)).toBeNull();
    expect(shortcutAction(key("keyup", " "), shortcuts, talking)).toBe("talk_end");
    // Unmuted, Space does nothing.
    expect(shortcutAction(key("keydown", " "), shortcuts, idle)).toBeNull();
  });

  it("keys typed into the chat are not shortcuts", () => {
    const typing = { muted: true, talking: false, typing: true };
    expect(shortcutAction(key("keydown", " "), shortcuts, typing)).toBeNull();
    expect(shortcutAction(key("keydown", "d", { ctrlKey: true }), shortcuts, typing)).toBeNull();
  });
});
