import { describe, expect, it } from "vitest";
import { i420ToRgba } from "./convert";

/** A frame of one colour given as Y, U, V. */
function flat(width: number, height: number, y: number, u: number, v: number) {
  const chroma = (width / 2) * (height / 2);
  return {
    width,
    height,
    y: new Uint8Array(width * height).fill(y),
    u: new Uint8Array(chroma).fill(u),
    v: new Uint8Array(chroma).fill(v),
  };
}

function rgbOf(frame: ReturnType<typeof flat>): number[] {
  const out = new Uint8ClampedArray(frame.width * frame.height * 4);
  i420ToRgba(frame, out);
  return Array.from(out.subarray(0, 4));
}

describe("i420ToRgba", () => {
  it("maps studio-range black, white and grey like the shader", () => {
    expect(rgbOf(flat(2, 2, 16, 128, 128))).toEqual([0, 0, 0, 255]);
    expect(rgbOf(flat(2, 2, 235, 128, 128))).toEqual([255, 255, 255, 255]);
    expect(rgbOf(flat(2, 2, 126, 128, 128))).toEqual([128, 128, 128, 255]);
  });

  it("turns the test pattern's yellow and the BT.601 primaries into their colours", () => {
    // Y, U, V of 75 % bars (ITU-R BT.601).
    const [r, g, b] = rgbOf(flat(2, 2, 162, 44, 142));
    expect(r).toBeGreaterThan(180);
    expect(g).toBeGreaterThan(180);
    expect(b).toBeLessThan(30);
    const red = rgbOf(flat(2, 2, 81, 90, 240));
    expect(red[0]).toBeGreaterThan(240);
    expect(red[1]! + red[2]!).toBeLessThan(10);
  });

  it("clamps out-of-gamut values instead of wrapping", () => {
    expect(rgbOf(flat(2, 2, 255, 255, 255)).slice(0, 3)).toEqual([255, 125, 255]);
    expect(rgbOf(flat(2, 2, 0, 0, 0)).slice(0, 3)).toEqual([0, 135, 0]);
  });

  it("shares each chroma sample between a 2×2 block of pixels", () => {
    const frame = flat(4, 2, 126, 128, 128);
    frame.v[1] = 240; // the right-hand block turns red
    const out = new Uint8ClampedArray(4 * 2 * 4);
    i420ToRgba(frame, out);
    const red = (px: number) => out[px * 4]!;
    expect([red(0), red(1), red(2), red(3), red(4), red(5), red(6), red(7)].map((r) => r > 200)).toEqual([
      false, false, true, true, false, false, true, true,
    ]);
  });

  it("refuses an output of the wrong size", () => {
    expect(() => i420ToRgba(flat(2, 2, 16, 128, 128), new Uint8ClampedArray(3))).toThrow(/needs 16 bytes/);
  });
});
