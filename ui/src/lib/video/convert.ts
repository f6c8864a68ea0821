// I420 to RGBA in plain JavaScript, for drawing on a 2D canvas: BT.601
// studio range, the same conversion as the WebGL2 shader, in 8.8 fixed
// point. Without a GPU, WebGL2 runs in Mesa's software rasteriser, and
// converting a tile-sized frame here costs less than uploading and drawing
// it there (docs/benchmarks.md).

import type { I420Planes } from "./renderer";

/**
 * Converts `frame` into `out` (width × height × 4 bytes, top row first,
 * alpha 255). A `Uint8ClampedArray` clamps each channel to 0..255 itself.
 */
export function i420ToRgba(frame: I420Planes, out: Uint8ClampedArray): void {
  const { width, height, y, u, v } = frame;
  if (out.length !== width * height * 4) {
    throw new RangeError(`a ${width}x${height} picture needs ${width * height * 4} bytes, got ${out.length}`);
  }
  const half = width >> 1;
  for (let row = 0; row < height; row++) {
    const chromaRow = (row >> 1) * half;
    let o = row * width * 4;
    let l = row * width;
    for (let col = 0; col < width; col++, l++, o += 4) {
      const c = chromaRow + (col >> 1);
      const yy = 298 * ((y[l] ?? 16) - 16) + 128;
      const uu = (u[c] ?? 128) - 128;
      const vv = (v[c] ?? 128) - 128;
      out[o] = (yy + 409 * vv) >> 8;
      out[o + 1] = (yy - 100 * uu - 208 * vv) >> 8;
      out[o + 2] = (yy + 516 * uu) >> 8;
      out[o + 3] = 255;
    }
  }
}
