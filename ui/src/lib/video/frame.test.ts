import { describe, expect, it } from "vitest";
import { HEADER_LEN, parseFrame, skippedBetween, tileRequestSize } from "./frame";

function message(width: number, height: number, extra = 0): ArrayBuffer {
  const luma = width * height;
  const buffer = new ArrayBuffer(HEADER_LEN + luma + luma / 2 + extra);
  const view = new DataView(buffer);
  view.setUint32(0, 7, true);
  view.setUint16(4, width, true);
  view.setUint16(6, height, true);
  view.setUint32(8, 0x01020304, true);
  view.setUint32(12, 1234, true);
  const bytes = new Uint8Array(buffer);
  bytes[HEADER_LEN] = 11; // first Y
  bytes[HEADER_LEN + luma] = 22; // first U
  bytes[HEADER_LEN + luma + luma / 4] = 33; // first V
  return buffer;
}

describe("parseFrame", () => {
  it("reads the little-endian header and splits the three planes", () => {
    const result = parseFrame(message(4, 2));
    if (!result.ok) throw new Error(result.error);
    const f = result.frame;
    expect([f.tile, f.width, f.height, f.sequence, f.timestampMs]).toEqual([
      7, 4, 2, 0x01020304, 1234,
    ]);
    expect([f.y.length, f.u.length, f.v.length]).toEqual([8, 2, 2]);
    expect([f.y[0], f.u[0], f.v[0]]).toEqual([11, 22, 33]);
  });

  it("refuses short, odd-sized and wrong-length messages with a reason", () => {
    expect(parseFrame(new ArrayBuffer(3))).toEqual({
      ok: false,
      error: "frame message of 3 bytes has no header",
    });
    const odd = message(4, 2);
    new DataView(odd).setUint16(4, 3, true);
    expect(parseFrame(odd).ok).toBe(false);
    const long = parseFrame(message(4, 2, 1));
    expect(long).toEqual({ ok: false, error: "a 4x2 frame needs 28 bytes, got 29" });
  });
});

describe("tileRequestSize", () => {
  it("asks for even device pixels within the socket's limits", () => {
    expect(tileRequestSize(421, 237, 1)).toEqual({ width: 420, height: 236 });
    expect(tileRequestSize(300, 200, 2)).toEqual({ width: 600, height: 400 });
    expect(tileRequestSize(0, 1, 1)).toEqual({ width: 2, height: 2 });
    expect(tileRequestSize(5000, 100, 1.5)).toEqual({ width: 4096, height: 150 });
  });
});

describe("skippedBetween", () => {
  it("counts sequence gaps, across the 2^32 wrap", () => {
    expect(skippedBetween(null, 5)).toBe(0);
    expect(skippedBetween(5, 6)).toBe(0);
    expect(skippedBetween(5, 9)).toBe(3);
    expect(skippedBetween(0xffffffff, 1)).toBe(1);
  });
});
