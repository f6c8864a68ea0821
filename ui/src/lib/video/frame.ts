// The frame socket's binary messages (see src-tauri/src/frames/wire.rs):
// a 16-byte little-endian header, then the I420 planes Y, U, V packed at
// the header's width and height.

export const HEADER_LEN = 16;

export interface I420Frame {
  tile: number;
  width: number;
  height: number;
  /** Frames published on the stream before this one; gaps are skipped frames. */
  sequence: number;
  timestampMs: number;
  y: Uint8Array;
  u: Uint8Array;
  v: Uint8Array;
}

export type FrameParse = { ok: true; frame: I420Frame } | { ok: false; error: string };

/** Reads one message; refuses anything whose length does not match its header. */
export function parseFrame(buffer: ArrayBuffer): FrameParse {
  if (buffer.byteLength < HEADER_LEN) {
    return { ok: false, error: `frame message of ${buffer.byteLength} bytes has no header` };
  }
  const view = new DataView(buffer);
  const tile = view.getUint32(0, true);
  const width = view.getUint16(4, true);
  const height = view.getUint16(6, true);
  const sequence = view.getUint32(8, true);
  const timestampMs = view.getUint32(12, true);
  if (width === 0 || height === 0 || width % 2 !== 0 || height % 2 !== 0) {
    return { ok: false, error: `frame size ${width}x${height} is not even and non-zero` };
  }
  const luma = width * height;
  const chroma = luma / 4;
  const expected = HEADER_LEN + luma + 2 * chroma;
  if (buffer.byteLength !== expected) {
    return {
      ok: false,
      error: `a ${width}x${height} frame needs ${expected} bytes, got ${buffer.byteLength}`,
    };
  }
  const y = new Uint8Array(buffer, HEADER_LEN, luma);
  const u = new Uint8Array(buffer, HEADER_LEN + luma, chroma);
  const v = new Uint8Array(buffer, HEADER_LEN + luma + chroma, chroma);
  return { ok: true, frame: { tile, width, height, sequence, timestampMs, y, u, v } };
}

/**
 * The tile size to ask the app for: the element's size in device pixels,
 * even, within the 2..4096 the socket accepts. Asking for device pixels
 * keeps the picture sharp on HiDPI screens without sending more than shows.
 */
export function tileRequestSize(
  cssWidth: number,
  cssHeight: number,
  devicePixelRatio: number,
): { width: number; height: number } {
  const side = (css: number) => {
    const px = Math.round(Math.max(0, css) * (devicePixelRatio || 1));
    return Math.min(4096, Math.max(2, px - (px % 2)));
  };
  return { width: side(cssWidth), height: side(cssHeight) };
}

/** Frames a tile never received: the gaps in the sequence numbers. */
export function skippedBetween(previous: number | null, next: number): number {
  if (previous === null) return 0;
  const gap = (next - previous) >>> 0; // sequence numbers wrap at 2^32
  return gap > 0 ? gap - 1 : 0;
}
