// Browser guests at /j/<code>: two Chromium contexts with fake cameras and
// microphones join one meeting through the real SFU, see and hear each
// other (WebRTC getStats), and leaving removes the tile on the other side.
import { copyFileSync, mkdirSync } from "node:fs";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { GUEST_DIR, required } from "./env";
import { startExtraParticipant } from "./extra-participant";
import { createMeeting } from "./meetings";

const SCREENSHOT_FOR_DOCS = new URL("../../docs/screenshots/guest-meeting.png", import.meta.url);

/** What one page receives, summed over its peer connection's inbound streams. */
interface Received {
  videoStreams: number;
  framesDecoded: number;
  audioPackets: number;
  audioEnergy: number;
}

type Hooked = { __confabPeers?: RTCPeerConnection[] };

/** A page in its own context (its own "person") whose RTCPeerConnections the test can reach. */
async function guestPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  await context.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    const peers: RTCPeerConnection[] = [];
    (window as unknown as Hooked).__confabPeers = peers;
    window.RTCPeerConnection = class extends Native {
      constructor(config?: RTCConfiguration) {
        super(config);
        peers.push(this);
      }
    };
  });
  return context.newPage();
}

async function received(page: Page): Promise<Received> {
  return page.evaluate(async () => {
    const peers = (window as unknown as Hooked).__confabPeers ?? [];
    const sum: Received = { videoStreams: 0, framesDecoded: 0, audioPackets: 0, audioEnergy: 0 };
    const pc = peers[peers.length - 1];
    if (!pc) return sum;
    (await pc.getStats()).forEach((s: Record<string, unknown>) => {
      if (s.type !== "inbound-rtp") return;
      if (s.kind === "video" && Number(s.framesDecoded ?? 0) > 0) {
        sum.videoStreams += 1;
        sum.framesDecoded += Number(s.framesDecoded);
      }
      if (s.kind === "audio") {
        sum.audioPackets += Number(s.packetsReceived ?? 0);
        sum.audioEnergy += Number(s.totalAudioEnergy ?? 0);
      }
    });
    return sum;
  });
}

async function join(page: Page, code: string, name: string, passcode?: string): Promise<void> {
  await page.goto(`/j/${code}`);
  await page.getByLabel("Your name").fill(name);
  if (passcode !== undefined) await page.getByLabel("Passcode").fill(passcode);
  await page.getByRole("button", { name: "Join", exact: true }).click();
}

test("two browser guests see and hear each other, and leaving removes the tile", async ({ browser, request }) => {
  required("CONFAB_BASE_URL");
  mkdirSync(GUEST_DIR, { recursive: true });
  const code = await createMeeting(request, { title: "Guest call" });
  const ana = await guestPage(browser);
  const ben = await guestPage(browser);

  await ana.goto(`/j/${code}`);
  await expect(ana.getByRole("heading", { level: 1, name: "Guest call" })).toBeVisible();
  await expect(ana.getByLabel("Passcode")).toHaveCount(0);
  await ana.screenshot({ path: `${GUEST_DIR}/join-form.png` });
  await join(ana, code, "Ana");
  await expect(ana.getByRole("figure", { name: "Ana (you)" })).toBeVisible();
  await join(ben, code, "Ben");
  await expect(ana.getByRole("figure", { name: "Ben", exact: true })).toBeVisible();
  await expect(ben.getByRole("figure", { name: "Ana", exact: true })).toBeVisible();

  const extra = startExtraParticipant(code);
  try {
    const others = extra ? 2 : 1;
    if (extra) {
      for (const page of [ana, ben]) await expect(page.getByRole("figure", { name: extra.name })).toBeVisible();
    }
    // Video decodes and audio arrives from every other participant, and keeps doing so.
    for (const page of [ana, ben]) {
      await expect.poll(() => received(page), { timeout: 20_000 }).toMatchObject({ videoStreams: others });
    }
    const before = [await received(ana), await received(ben)];
    for (const [i, page] of [ana, ben].entries()) {
      await expect
        .poll(async () => {
          const now = await received(page);
          return (
            now.framesDecoded >= before[i]!.framesDecoded + 20 &&
            now.audioPackets >= before[i]!.audioPackets + 50 &&
            now.audioEnergy > 0
          );
        }, { timeout: 15_000, message: `media keeps arriving on page ${i}` })
        .toBe(true);
    }
    await ana.screenshot({ path: `${GUEST_DIR}/meeting-ana.png` });
    await ben.screenshot({ path: `${GUEST_DIR}/meeting-ben.png` });
    copyFileSync(`${GUEST_DIR}/meeting-ana.png`, SCREENSHOT_FOR_DOCS);
  } finally {
    await extra?.stop();
  }

  // Mute shows on the other side, then leaving removes the tile there.
  await ben.getByRole("button", { name: "Mute" }).click();
  await expect(ana.getByRole("figure", { name: "Ben", exact: true })).toContainText("muted");
  await ben.getByRole("button", { name: "Leave" }).click();
  await expect(ben.getByRole("heading", { name: "You left the meeting" })).toBeVisible();
  await expect(ana.getByRole("figure", { name: "Ben", exact: true })).toHaveCount(0);
  await expect(ana.getByText("Only you so far")).toBeVisible();
  await ana.getByRole("button", { name: "Leave" }).click();
});

test("a wrong passcode shows the server's sentence and the form stays", async ({ browser, request }) => {
  required("CONFAB_BASE_URL");
  mkdirSync(GUEST_DIR, { recursive: true });
  const code = await createMeeting(request, { title: "Board meeting", passcode: "4711-right" });
  const page = await guestPage(browser);

  // What the server said, read off the socket, is what the page must show.
  const errors: string[] = [];
  page.on("websocket", (ws) =>
    ws.on("framereceived", ({ payload }) => {
      const msg = JSON.parse(String(payload)) as { type: string; code?: string; message?: string };
      if (msg.type === "error" && msg.code === "wrong_passcode" && msg.message) errors.push(msg.message);
    }),
  );
  await join(page, code, "Guest", "1234-wrong");
  await expect.poll(() => errors.length).toBe(1);
  await expect(page.getByRole("alert")).toHaveText(errors[0]!);
  await expect(page.getByLabel("Passcode")).toBeVisible();
  await page.screenshot({ path: `${GUEST_DIR}/wrong-passcode.png` });

  await page.getByLabel("Passcode").fill("4711-right");
  await page.getByRole("button", { name: "Join", exact: true }).click();
  await expect(page.getByRole("figure", { name: "Guest (you)" })).toBeVisible();
  await page.getByRole("button", { name: "Leave" }).click();
  await expect(page.getByRole("heading", { name: "You left the meeting" })).toBeVisible();
});

test("an unknown code is a 404 page that says so", async ({ page }) => {
  required("CONFAB_BASE_URL");
  const response = await page.goto("/j/zzz-zzzz-zzz");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Meeting not found" })).toBeVisible();
});
