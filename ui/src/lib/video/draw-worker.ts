// The "worker" draw mode (drawers.ts): tiles' canvases arrive as
// OffscreenCanvases and frames as transferred buffers; each is converted to
// RGBA and put on its canvas, and "drawn" goes back with the time it took,
// so the page can ack the frame.

import { i420ToRgba } from "./convert";

export type ToWorker =
  | { type: "attach"; tile: number; canvas: OffscreenCanvas }
  | {
      type: "draw";
      tile: number;
      width: number;
      height: number;
      buffer: ArrayBuffer;
      /** Byte offsets of the Y, U and V planes in `buffer`. */
      offsets: [number, number, number];
    }
  | { type: "detach"; tile: number };

export type FromWorker = { type: "drawn"; tile: number; ms: number } | { type: "problem"; tile: number; error: string };

interface Target {
  ctx: OffscreenCanvasRenderingContext2D;
  image: ImageData | null;
}

const targets = new Map<number, Target>();

function reply(message: FromWorker): void {
  (self as unknown as Worker).postMessage(message);
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  try {
    if (message.type === "attach") {
      const ctx = message.canvas.getContext("2d", { alpha: false });
      if (!ctx) throw new Error("no 2D context on an OffscreenCanvas in a worker");
      targets.set(message.tile, { ctx, image: null });
    } else if (message.type === "detach") {
      targets.delete(message.tile);
    } else {
      const target = targets.get(message.tile);
      if (!target) return;
      const { width, height, buffer, offsets } = message;
      const luma = width * height;
      const t0 = performance.now();
      if (target.image?.width !== width || target.image.height !== height) {
        target.ctx.canvas.width = width;
        target.ctx.canvas.height = height;
        target.image = new ImageData(width, height);
      }
      const frame = {
        width,
        height,
        y: new Uint8Array(buffer, offsets[0], luma),
        u: new Uint8Array(buffer, offsets[1], luma / 4),
        v: new Uint8Array(buffer, offsets[2], luma / 4),
      };
      i420ToRgba(frame, target.image.data);
      target.ctx.putImageData(target.image, 0, 0);
      reply({ type: "drawn", tile: message.tile, ms: performance.now() - t0 });
    }
  } catch (e) {
    reply({ type: "problem", tile: message.tile, error: String(e) });
  }
};
