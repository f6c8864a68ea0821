import { describe, expect, it } from "vitest";
import { checkDisplayName, shortcutClash, shortcutFromEvent } from "./settings-form";

const keys = { ctrlKey: false, altKey: false, shiftKey: false, metaKey: false };

describe("settings form", () => {
  it("limits names to 64 characters after trimming", () => {
    expect(checkDisplayName(`  ${"a".repeat(64)}  `)).toBeNull();
    expect(checkDisplayName("a".repeat(65))).toBe("The display name can have at most 64 characters.");
  });

  it("finds a shortcut given to two actions, ignoring case", () => {
    expect(shortcutClash(["Ctrl+D", "Ctrl+E", ""])).toBeNull();
    expect(shortcutClash(["Ctrl+D", "ctrl+d"])).toBe(
      "Two shortcuts are both ctrl+d; give each action its own keys.",
    );
  });

  it("records shortcuts from key events, ignoring lone modifiers", () => {
    expect(shortcutFromEvent({ ...keys, ctrlKey: true, shiftKey: true, key: "h" })).toBe("Ctrl+Shift+H");
    expect(shortcutFromEvent({ ...keys, key: "F9" })).toBe("F9");
    expect(shortcutFromEvent({ ...keys, key: " " })).toBe("Space");
    expect(shortcutFromEvent({ ...keys, ctrlKey: true, key: "Control" })).toBeNull();
  });
});
