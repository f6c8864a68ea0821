import { describe, expect, it } from "vitest";
import { DEFAULT_DRAW_MODE, DRAW_MODES, parseDrawMode } from "./drawers";

describe("parseDrawMode", () => {
  it("reads every mode the benchmark compares", () => {
    for (const mode of DRAW_MODES) expect(parseDrawMode(mode)).toBe(mode);
  });

  it("falls back to the default for a missing or unknown mode", () => {
    expect(parseDrawMode(null)).toBe(DEFAULT_DRAW_MODE);
    expect(parseDrawMode("webgpu")).toBe(DEFAULT_DRAW_MODE);
  });
});
