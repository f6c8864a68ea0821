// The page's end of the frame socket: one WebSocket to the app, any number
// of tiles subscribed over it. Frames arrive already scaled to each tile,
// one at a time per tile: the app sends a tile's next frame (the newest)
// only after the page acks the last one, so nothing queues in the page.

import { reconnectDelay } from "../backoff";
import { parseFrame, type I420Frame } from "./frame";

export type FrameHandler = (frame: I420Frame) => void;

interface Tile {
  stream: string;
  width: number;
  height: number;
  onFrame: FrameHandler;
}

export interface SocketAddress {
  port: number;
  token: string;
}

export class FrameSocket {
  private ws: WebSocket | null = null;
  private readonly tiles = new Map<number, Tile>();
  private nextTile = 1;
  private attempts = 0;
  private closed = false;
  /** The last error the app sent back, for the page to show. */
  lastError: string | null = null;

  constructor(private readonly address: SocketAddress) {
    this.open();
  }

  private open(): void {
    const { port, token } = this.address;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/?token=${encodeURIComponent(token)}`);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      this.attempts = 0;
      for (const [id, tile] of this.tiles) this.sendSubscribe(id, tile);
    };
    ws.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
      if (typeof event.data === "string") {
        this.lastError = event.data;
        return;
      }
      const parsed = parseFrame(event.data);
      if (!parsed.ok) {
        this.lastError = parsed.error;
        return;
      }
      this.tiles.get(parsed.frame.tile)?.onFrame(parsed.frame);
    };
    ws.onclose = () => {
      this.ws = null;
      if (this.closed) return;
      setTimeout(() => this.open(), reconnectDelay(this.attempts++));
    };
    this.ws = ws;
  }

  private send(message: object): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  private sendSubscribe(id: number, tile: Tile): void {
    this.send({ type: "subscribe", tile: id, stream: tile.stream, width: tile.width, height: tile.height });
  }

  /** Subscribes a new tile; returns its id for `resize` and `unsubscribe`. */
  subscribe(stream: string, width: number, height: number, onFrame: FrameHandler): number {
    const id = this.nextTile++;
    const tile = { stream, width, height, onFrame };
    this.tiles.set(id, tile);
    this.sendSubscribe(id, tile);
    return id;
  }

  resize(id: number, width: number, height: number): void {
    const tile = this.tiles.get(id);
    if (!tile || (tile.width === width && tile.height === height)) return;
    tile.width = width;
    tile.height = height;
    this.sendSubscribe(id, tile);
  }

  /** Says the tile has drawn its frame, so the app may send the newest. */
  ack(id: number): void {
    if (this.tiles.has(id)) this.send({ type: "ack", tile: id });
  }

  unsubscribe(id: number): void {
    if (this.tiles.delete(id)) this.send({ type: "unsubscribe", tile: id });
  }

  close(): void {
    this.closed = true;
    this.ws?.close();
  }
}
