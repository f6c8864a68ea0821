// One more participant started by a command, for specs where a browser
// shares a meeting with another kind of client (the Rust meeting client,
// say). Set CONFAB_EXTRA_PARTICIPANT to a shell command; it runs with
//
//   CONFAB_BASE_URL          the server, e.g. http://127.0.0.1:40123
//   CONFAB_MEETING_CODE      the meeting to join, e.g. kqz-rmtp-wfa
//   CONFAB_JOIN_URL          <base>/j/<code>
//   CONFAB_PARTICIPANT_NAME  the name to join with (the spec looks for its tile)
//   CONFAB_MEDIA_UDP         the media port, when the harness knows it
//
// and must join, send audio and video, and run until it gets SIGTERM. Its
// output goes to test-output/guest/extra-participant.log.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { GUEST_DIR, required } from "./env";

export const EXTRA_NAME = "Extra participant";

export interface Extra {
  name: string;
  stop(): Promise<void>;
}

/** Starts the command from CONFAB_EXTRA_PARTICIPANT, or returns null when it is not set. */
export function startExtraParticipant(code: string): Extra | null {
  const command = process.env.CONFAB_EXTRA_PARTICIPANT;
  if (!command) return null;
  const base = required("CONFAB_BASE_URL").replace(/\/$/, "");
  mkdirSync(GUEST_DIR, { recursive: true });
  const log = createWriteStream(`${GUEST_DIR}/extra-participant.log`);
  const child: ChildProcess = spawn("sh", ["-c", command], {
    env: {
      ...process.env,
      CONFAB_BASE_URL: base,
      CONFAB_MEETING_CODE: code,
      CONFAB_JOIN_URL: `${base}/j/${code}`,
      CONFAB_PARTICIPANT_NAME: EXTRA_NAME,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return {
    name: EXTRA_NAME,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.pid === undefined) return resolve();
        const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 5_000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        // The whole group: `sh -c` and what it started.
        process.kill(-child.pid, "SIGTERM");
      }),
  };
}
