// The meeting the server embedded in the page (crates/server/src/pages/join.rs):
// a JSON <script id="confab-meeting" type="application/json">.
import type { GuestMeeting } from "../../lib/generated/GuestMeeting";

export const MEETING_SCRIPT_ID = "confab-meeting";

/**
 * The embedded meeting from the script's text, or an error sentence when the
 * page was not served by a Confab server.
 */
export function parseMeeting(text: string | null | undefined): GuestMeeting | string {
  if (!text) return "This page lacks its meeting. Open the join link again.";
  try {
    const value = JSON.parse(text) as Partial<GuestMeeting>;
    if (typeof value.code !== "string" || typeof value.title !== "string") {
      return "This page's meeting data is damaged. Reload the page.";
    }
    return {
      code: value.code,
      title: value.title,
      passcode_required: value.passcode_required === true,
      lobby: value.lobby === true,
      not_open: typeof value.not_open === "string" ? value.not_open : null,
    };
  } catch {
    return "This page's meeting data is damaged. Reload the page.";
  }
}

/** The signalling WebSocket's URL on the server that served `page`. */
export function signallingUrl(page: Location | URL): string {
  const url = new URL("/ws", page.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.hash = "";
  url.search = "";
  return url.href;
}
