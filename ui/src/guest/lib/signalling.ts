// The signalling connection (docs/protocol.md): one WebSocket, `hello`
// first, a heartbeat at the interval `welcome` asks for, JSON both ways.
import type { ClientMessage } from "../../lib/generated/ClientMessage";
import type { ServerMessage } from "../../lib/generated/ServerMessage";

export const PROTOCOL_VERSION = 1;

export class Signalling {
  private readonly ws: WebSocket;
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(
    url: string,
    onmessage: (message: ServerMessage) => void,
    onclose: (event: CloseEvent) => void,
  ) {
    this.ws = new WebSocket(url);
    this.ws.onopen = () => this.send({ type: "hello", version: PROTOCOL_VERSION });
    this.ws.onmessage = (event) => {
      let message: ServerMessage;
      try {
        message = JSON.parse(String(event.data)) as ServerMessage;
      } catch {
        console.warn("signalling: a message that is not JSON", event.data);
        return;
      }
      if (message.type === "welcome") {
        clearInterval(this.heartbeat);
        this.heartbeat = setInterval(() => this.send({ type: "heartbeat" }), message.heartbeat_interval_ms);
      }
      onmessage(message);
    };
    this.ws.onclose = (event) => {
      clearInterval(this.heartbeat);
      onclose(event);
    };
  }

  send(message: ClientMessage): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** Closes without telling `onclose` (the caller already knows why). */
  close(): void {
    clearInterval(this.heartbeat);
    this.ws.onclose = null;
    this.ws.onmessage = null;
    this.ws.close();
  }
}
