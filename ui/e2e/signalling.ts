// Signalling connections opened from inside a page with the browser's own
// WebSocket (docs/protocol.md): hello, then join, then a heartbeat at the
// interval the server asks for, so each connection keeps its line.

import type { Page } from "@playwright/test";

export interface Crowd {
  /** Joins `count` connections to `meeting`; rejects with the server's error sentence. */
  join(meeting: string, count: number, namePrefix: string): Promise<void>;
  /** How many joined connections the server has since closed or removed. */
  gone(): Promise<number>;
  /** Says leave on every open connection. */
  leave(): Promise<void>;
}

interface CrowdState {
  sockets: WebSocket[];
  gone: number;
}

type Hook = { __confabCrowd?: CrowdState };

export function crowd(page: Page): Crowd {
  return {
    join: (meeting, count, namePrefix) =>
      page.evaluate(
        async ({ meeting, count, namePrefix }) => {
          const hook = window as unknown as Hook;
          const state = (hook.__confabCrowd ??= { sockets: [], gone: 0 });
          const url = new URL("/ws", window.location.href);
          url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
          url.hash = "";

          const open = (name: string) =>
            new Promise<void>((resolve, reject) => {
              const ws = new WebSocket(url);
              state.sockets.push(ws);
              let heartbeat: ReturnType<typeof setInterval> | undefined;
              let joined = false;
              let over = false;
              const goneOnce = () => {
                if (joined && !over) {
                  over = true;
                  state.gone += 1;
                }
              };
              ws.onopen = () => ws.send(JSON.stringify({ type: "hello", version: 1 }));
              ws.onmessage = (event) => {
                const msg = JSON.parse(String(event.data)) as {
                  type: string;
                  code?: string;
                  message?: string;
                  heartbeat_interval_ms?: number;
                };
                if (msg.type === "welcome") {
                  ws.send(JSON.stringify({ type: "join", meeting, name, kind: "browser" }));
                  heartbeat = setInterval(
                    () => ws.send(JSON.stringify({ type: "heartbeat" })),
                    msg.heartbeat_interval_ms ?? 5000,
                  );
                } else if (msg.type === "joined") {
                  joined = true;
                  resolve();
                } else if (msg.type === "lobby") {
                  reject(new Error(`${name} was put in the lobby; the test meeting must not have one.`));
                } else if (msg.type === "error" && !joined) {
                  reject(new Error(`${name} could not join: ${msg.code}: ${msg.message}`));
                } else if (msg.type === "removed" || msg.type === "meeting_ended") {
                  goneOnce();
                }
              };
              ws.onclose = (event) => {
                clearInterval(heartbeat);
                goneOnce();
                if (!joined) reject(new Error(`${name}: the socket closed before joining (${event.code}).`));
              };
            });

          const first = state.sockets.length;
          await Promise.all(
            Array.from({ length: count }, (_, i) => open(`${namePrefix} ${first + i + 1}`)),
          );
        },
        { meeting, count, namePrefix },
      ),
    gone: () => page.evaluate(() => (window as unknown as Hook).__confabCrowd?.gone ?? 0),
    leave: () =>
      page.evaluate(() => {
        for (const ws of (window as unknown as Hook).__confabCrowd?.sockets ?? []) {
          if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "leave" }));
        }
      }),
  };
}
