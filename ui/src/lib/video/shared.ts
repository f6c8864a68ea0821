// One frame socket for the whole window, opened on first use, and the
// counters every tile keeps (read by the benchmark and the window test
// through `window.confabFrames`).

import { app } from "../api";
import { FrameSocket } from "./socket";

let socket: Promise<FrameSocket> | null = null;

export function frameSocket(): Promise<FrameSocket> {
  socket ??= app.frameSocket().then((address) => new FrameSocket(address));
  return socket;
}

export interface TileCounters {
  stream: string;
  received: number;
  drawn: number;
  skipped: number;
  /** Milliseconds spent in the renderer's draw calls (upload and draw). */
  drawMs: number;
  lastSequence: number | null;
  width: number;
  height: number;
}

export const tileCounters = new Map<number, TileCounters>();

declare global {
  interface Window {
    confabFrames?: Map<number, TileCounters>;
  }
}
window.confabFrames = tileCounters;
