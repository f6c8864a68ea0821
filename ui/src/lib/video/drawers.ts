// How a tile gets its frames onto the screen. The modes are the designs the
// frame-path benchmark compares (docs/benchmarks.md, `#/bench?draw=<mode>`);
// tiles use DEFAULT_DRAW_MODE, the one that measured best here (none beat
// the first design on software GL).
//
// - "preserve": a WebGL2 context per tile with `preserveDrawingBuffer` (the
//   first design);
// - "plain": a WebGL2 context per tile without it;
// - "shared": one WebGL2 context for every tile on a canvas of its own,
//   copied into each tile's 2D canvas after drawing;
// - "convert": no WebGL; each tile a 2D canvas, I420 converted to RGBA in
//   JavaScript (convert.ts) and put there;
// - "worker": the same conversion in one worker, each tile's canvas handed
//   to it as an OffscreenCanvas (WebKitGTK 2.50 has no WebGL2 on an
//   OffscreenCanvas in a worker: getContext("webgl2") returns null there).

import type { I420Frame } from "./frame";
import { i420ToRgba } from "./convert";
import { I420Renderer, RendererError } from "./renderer";
import type { FromWorker, ToWorker } from "./draw-worker";

export type DrawMode = "preserve" | "plain" | "shared" | "convert" | "worker";
export const DRAW_MODES: readonly DrawMode[] = ["preserve", "plain", "shared", "convert", "worker"];
export const DEFAULT_DRAW_MODE: DrawMode = "preserve";

/** The mode named in `value` (a URL parameter), or the default. */
export function parseDrawMode(value: string | null | undefined): DrawMode {
  return DRAW_MODES.find((m) => m === value) ?? DEFAULT_DRAW_MODE;
}

export interface TileDrawer {
  /**
   * Draws `frame` and calls `done` with the milliseconds the drawing took
   * once the picture is on the tile (later, for the worker). The frame's
   * buffer may be handed over: do not use it after.
   */
  draw(frame: I420Frame, done: (ms: number) => void): void;
  close(): void;
}

/** `onProblem` hears of failures that happen after creation (in the worker). */
export function createDrawer(
  mode: DrawMode,
  canvas: HTMLCanvasElement,
  onProblem: (sentence: string) => void = () => {},
): TileDrawer {
  switch (mode) {
    case "preserve":
    case "plain":
      return contextDrawer(new I420Renderer(canvas, { preserveDrawingBuffer: mode === "preserve" }));
    case "shared":
      return sharedDrawer(canvas);
    case "convert":
      return convertDrawer(canvas);
    case "worker":
      return workerDrawer(canvas, onProblem);
  }
}

function contextDrawer(renderer: I420Renderer): TileDrawer {
  return {
    draw(frame, done) {
      const t0 = performance.now();
      renderer.draw(frame);
      done(performance.now() - t0);
    },
    close() {},
  };
}

let shared: I420Renderer | null = null;

function sharedDrawer(canvas: HTMLCanvasElement): TileDrawer {
  shared ??= new I420Renderer(document.createElement("canvas"));
  const renderer = shared;
  const ctx = context2d(canvas);
  return {
    draw(frame, done) {
      const t0 = performance.now();
      renderer.draw(frame);
      if (canvas.width !== frame.width || canvas.height !== frame.height) {
        canvas.width = frame.width;
        canvas.height = frame.height;
      }
      // Read in the same task as the draw, so no preserved buffer is needed.
      ctx.drawImage(renderer.canvas, 0, 0);
      done(performance.now() - t0);
    },
    close() {},
  };
}

function context2d(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext("2d", { alpha: false });
  if (!ctx) throw new RendererError("this window has no 2D canvas");
  return ctx;
}

function convertDrawer(canvas: HTMLCanvasElement): TileDrawer {
  const ctx = context2d(canvas);
  let image: ImageData | null = null;
  return {
    draw(frame, done) {
      const t0 = performance.now();
      if (image?.width !== frame.width || image.height !== frame.height) {
        canvas.width = frame.width;
        canvas.height = frame.height;
        image = new ImageData(frame.width, frame.height);
      }
      i420ToRgba(frame, image.data);
      ctx.putImageData(image, 0, 0);
      done(performance.now() - t0);
    },
    close() {},
  };
}

let worker: Worker | null = null;
let nextTile = 1;
const pending = new Map<number, (ms: number) => void>();
const problems = new Map<number, (sentence: string) => void>();

function drawWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL("./draw-worker.ts", import.meta.url), { type: "module" });
  worker.onmessage = (event: MessageEvent<FromWorker>) => {
    const message = event.data;
    if (message.type === "drawn") {
      const done = pending.get(message.tile);
      pending.delete(message.tile);
      done?.(message.ms);
    } else {
      problems.get(message.tile)?.(message.error);
    }
  };
  worker.onerror = (event) => {
    for (const tell of problems.values()) tell(`the draw worker failed: ${event.message}`);
  };
  return worker;
}

function workerDrawer(canvas: HTMLCanvasElement, onProblem: (sentence: string) => void): TileDrawer {
  if (!("transferControlToOffscreen" in canvas)) {
    throw new RendererError("this window cannot hand a canvas to a worker");
  }
  const w = drawWorker();
  const tile = nextTile++;
  problems.set(tile, onProblem);
  const offscreen = canvas.transferControlToOffscreen();
  const post = (message: ToWorker, transfer: Transferable[] = []) => w.postMessage(message, transfer);
  post({ type: "attach", tile, canvas: offscreen }, [offscreen]);
  return {
    draw(frame, done) {
      pending.set(tile, done);
      const buffer = frame.y.buffer as ArrayBuffer;
      post(
        {
          type: "draw",
          tile,
          width: frame.width,
          height: frame.height,
          buffer,
          offsets: [frame.y.byteOffset, frame.u.byteOffset, frame.v.byteOffset],
        },
        [buffer],
      );
    },
    close() {
      pending.delete(tile);
      problems.delete(tile);
      post({ type: "detach", tile });
    },
  };
}
