// Browser guests at /j/<code>: two Chromium contexts with fake cameras and
// microphones join one meeting through the real SFU, see and hear each
// other (WebRTC getStats), and leaving removes the tile on the other side.
import { mkdirSync, writeFileSync } from "node:fs";
import { chromium, expect, test, type Browser, type Page, type WebSocketRoute } from "@playwright/test";
import { GUEST_DIR, required } from "./env";
import { startExtraParticipant } from "./extra-participant";
import { createMeeting, lines } from "./meetings";
import { crowd } from "./signalling";

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

/**
 * A browser whose fake microphone plays a steady tone (Chromium's own fake
 * microphone beeps briefly once a second, too quiet on average to be
 * anyone's "active speaker"), so one guest is clearly the one talking.
 */
async function talkingBrowser(): Promise<Browser> {
  const wav = `${GUEST_DIR}/tone.wav`;
  writeFileSync(wav, tone(440, 2, 0.3));
  const options = test.info().project.use.launchOptions ?? {};
  return chromium.launch({
    ...options,
    args: [...(options.args ?? []), `--use-file-for-fake-audio-capture=${wav}`],
  });
}

/** A mono 16-bit 48 kHz WAV of a sine tone. */
function tone(hz: number, seconds: number, amplitude: number): Buffer {
  const rate = 48_000;
  const samples = rate * seconds;
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write("RIFF", 0);
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write("WAVEfmt ", 8);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write("data", 36);
  wav.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) {
    wav.writeInt16LE(Math.round(Math.sin((2 * Math.PI * hz * i) / rate) * amplitude * 32767), 44 + i * 2);
  }
  return wav;
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
  const loud = await talkingBrowser();
  const ana = await guestPage(loud);
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
      // A process that starts a client of its own (a browser, a Rust binary) takes a while.
      for (const page of [ana, ben]) {
        await expect(page.getByRole("figure", { name: extra.name })).toBeVisible({ timeout: 40_000 });
      }
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
    if (extra) {
      // The extra participant may talk louder than Ana: one tile is outlined.
      await expect(ben.locator("figure.speaking")).toHaveCount(1);
    } else {
      // Ana talks: both pages outline her tile.
      await expect(ben.getByRole("figure", { name: "Ana", exact: true })).toHaveClass(/speaking/);
      await expect(ana.getByRole("figure", { name: "Ana (you)" })).toHaveClass(/speaking/);
    }
    await ana.screenshot({ path: `${GUEST_DIR}/meeting-ana.png` });
    await ben.screenshot({ path: `${GUEST_DIR}/meeting-ben.png` });
  } finally {
    await extra?.stop();
  }

  // Mute and camera off show on the other side, then leaving removes the tile there.
  const benOnAna = ana.getByRole("figure", { name: "Ben", exact: true });
  await ben.getByRole("button", { name: "Mute" }).click();
  await expect(benOnAna).toContainText("muted");
  await expect(benOnAna.locator(".placeholder")).toHaveCount(0);
  await ben.getByRole("button", { name: "Stop camera" }).click();
  await expect(benOnAna.locator(".placeholder")).toHaveText("B");
  await expect(ben.getByRole("button", { name: "Start camera" })).toHaveAttribute("aria-pressed", "true");
  await ben.getByRole("button", { name: "Leave" }).click();
  await expect(ben.getByRole("heading", { name: "You left the meeting" })).toBeVisible();
  await expect(ana.getByRole("figure", { name: "Ben", exact: true })).toHaveCount(0);
  await expect(ana.getByText("Only you so far")).toBeVisible();
  await ana.getByRole("button", { name: "Leave" }).click();
  await loud.close();
});

/**
 * Routes a page's signalling sockets through the test, so it can drop them
 * as a network would (the server sees the socket close without `leave`)
 * and keep new ones from connecting for a while. With `spoilResume` the
 * page's `resume` carries a token the server does not know, as when the
 * seat was given back while the page was away.
 */
async function flakyNetwork(page: Page) {
  const live: WebSocketRoute[] = [];
  const network = {
    offline: false,
    spoilResume: false,
    connections: 0,
    refused: 0,
    async drop() {
      network.offline = true;
      for (const ws of live.splice(0)) await ws.close({ code: 4000, reason: "network down (test)" });
    },
  };
  await page.routeWebSocket(/\/ws$/, async (ws) => {
    if (network.offline) {
      network.refused += 1;
      await ws.close({ code: 4000, reason: "network down (test)" });
      return;
    }
    network.connections += 1;
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      const spoil = network.spoilResume && typeof message === "string" && message.includes('"type":"resume"');
      server.send(spoil ? JSON.stringify({ type: "resume", token: "AAAAAAAAAAAAAAAAAAAAAA" }) : message);
    });
    ws.onClose(() => void server.close());
    server.onClose(() => void ws.close());
    live.push(ws);
  });
  return network;
}

test("a guest whose socket drops resumes its seat, and the others keep seeing its video", async ({ browser, request }) => {
  required("CONFAB_BASE_URL");
  mkdirSync(GUEST_DIR, { recursive: true });
  const code = await createMeeting(request, { title: "Flaky network" });
  const ana = await guestPage(browser);
  const ben = await guestPage(browser);
  const network = await flakyNetwork(ben);
  await join(ana, code, "Ana");
  await expect(ana.getByRole("figure", { name: "Ana (you)" })).toBeVisible();
  await join(ben, code, "Ben");
  for (const page of [ana, ben]) {
    await expect(page.getByText("2 in the meeting")).toBeVisible();
    await expect.poll(() => received(page), { timeout: 20_000 }).toMatchObject({ videoStreams: 1 });
  }
  const linesBefore = (await lines(request)).in_use;
  expect(network.connections).toBe(1);

  // The network goes away: Ben's page says so and keeps the call on screen.
  await network.drop();
  await expect(ben.getByTestId("reconnecting")).toHaveText("Reconnecting…");
  await expect(ben.getByRole("figure", { name: "Ana", exact: true })).toBeVisible();
  await expect(ben.getByRole("button", { name: "Join", exact: true })).toHaveCount(0);
  // It tries again (and fails) while the server holds the seat.
  await expect.poll(() => network.refused, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
  await expect(ben.getByTestId("reconnecting")).toBeVisible();

  // It comes back: the same seat, not a second one, and media flows again.
  network.offline = false;
  await expect(ben.getByTestId("reconnecting")).toHaveCount(0, { timeout: 15_000 });
  expect(network.connections).toBe(2);
  for (const page of [ana, ben]) await expect(page.getByText("2 in the meeting")).toBeVisible();
  await expect(ana.getByRole("figure", { name: "Ben", exact: true })).toHaveCount(1);
  expect((await lines(request)).in_use).toBe(linesBefore);
  // Ben offered again on a new peer connection; Ana receives it in the same
  // peer connection and keeps decoding Ben's video, and Ben sees Ana.
  const peers = await ben.evaluate(() => ((window as unknown as Hooked).__confabPeers ?? []).length);
  expect(peers).toBe(2);
  const anaBefore = await received(ana);
  await expect
    .poll(async () => (await received(ana)).framesDecoded - anaBefore.framesDecoded, {
      timeout: 20_000,
      message: "Ana decodes new frames of Ben after the reconnect",
    })
    .toBeGreaterThan(30);
  await expect.poll(() => received(ben), { timeout: 20_000 }).toMatchObject({ videoStreams: 1 });
  await ben.screenshot({ path: `${GUEST_DIR}/after-reconnect-ben.png` });

  for (const page of [ben, ana]) {
    await page.getByRole("button", { name: "Leave" }).click();
    await expect(page.getByRole("heading", { name: "You left the meeting" })).toBeVisible();
  }
});

test("a guest who leaves while reconnecting gives its line back at once", async ({ browser, request }) => {
  required("CONFAB_BASE_URL");
  const code = await createMeeting(request, { title: "Leaving early" });
  const ana = await guestPage(browser);
  const ben = await guestPage(browser);
  const network = await flakyNetwork(ben);
  await join(ana, code, "Ana");
  await join(ben, code, "Ben");
  for (const page of [ana, ben]) await expect(page.getByText("2 in the meeting")).toBeVisible();
  const linesBefore = (await lines(request)).in_use;

  await network.drop();
  await expect(ben.getByTestId("reconnecting")).toHaveText("Reconnecting…");
  // The whole network is down, not only the socket: the page's closing its
  // peer connection (a DTLS close) must not reach the server either, or it
  // could free the seat before the give-back does. Its closes are held back
  // until the end of the test.
  await ben.evaluate(() => {
    const held: RTCPeerConnection[] = [];
    const close = RTCPeerConnection.prototype.close;
    RTCPeerConnection.prototype.close = function (this: RTCPeerConnection) {
      held.push(this);
    };
    (window as unknown as { closeHeld: () => void }).closeHeld = () => {
      RTCPeerConnection.prototype.close = close;
      for (const pc of held) pc.close();
    };
  });
  // Leave while the network is still down; the page keeps trying to give
  // the seat back, and gets through once the network returns.
  await ben.getByRole("button", { name: "Leave" }).click();
  await expect(ben.getByRole("heading", { name: "You left the meeting" })).toBeVisible();
  const refused = network.refused;
  await expect.poll(() => network.refused, { timeout: 5_000 }).toBeGreaterThan(refused);
  network.offline = false;

  // Well inside the server's 15 s hold: the seat and the line are back.
  await expect(ana.getByText("Only you so far")).toBeVisible({ timeout: 5_000 });
  await expect
    .poll(async () => (await lines(request)).in_use, { timeout: 5_000 })
    .toBe(linesBefore - 1);
  // The second connection is the give-back, the only way left to free the seat.
  expect(network.connections).toBe(2);
  await ben.evaluate(() => (window as unknown as { closeHeld: () => void }).closeHeld());
  await ana.getByRole("button", { name: "Leave" }).click();
});

test("a guest whose seat is gone when it reconnects is back at the join form with the server's sentence", async ({
  browser,
  request,
}) => {
  required("CONFAB_BASE_URL");
  const code = await createMeeting(request, { title: "Gone" });
  const page = await guestPage(browser);
  const network = await flakyNetwork(page);
  const errors = serverErrors(page, "resume_failed");
  const linesBefore = (await lines(request)).in_use;
  await join(page, code, "Dana");
  await expect(page.getByRole("figure", { name: "Dana (you)" })).toBeVisible();
  network.spoilResume = true;
  await network.drop();
  network.offline = false;
  await expect.poll(() => errors.length, { timeout: 15_000 }).toBe(1);
  await expect(page.getByRole("alert")).toHaveText(errors[0]!);
  await expect(page.getByLabel("Your name")).toHaveValue("Dana");
  await expect(page.getByRole("button", { name: "Join", exact: true })).toBeEnabled();
  expect(network.connections).toBe(2);
  // The seat held for the page is given back at the heartbeat timeout.
  await expect
    .poll(async () => (await lines(request)).in_use, { timeout: 30_000, intervals: [1000] })
    .toBe(linesBefore);
});

test("a wrong passcode shows the server's sentence and the form stays", async ({ browser, request }) => {
  required("CONFAB_BASE_URL");
  mkdirSync(GUEST_DIR, { recursive: true });
  const code = await createMeeting(request, { title: "Board meeting", passcode: "4711-right" });
  const page = await guestPage(browser);

  // What the server said, read off the socket, is what the page must show.
  const errors = serverErrors(page, "wrong_passcode");
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

/** Collects the `message` of every `error` with `code` the page's sockets receive. */
function serverErrors(page: Page, code: string): string[] {
  const errors: string[] = [];
  page.on("websocket", (ws) =>
    ws.on("framereceived", ({ payload }) => {
      const msg = JSON.parse(String(payload)) as { type: string; code?: string; message?: string };
      if (msg.type === "error" && msg.code === code && msg.message) errors.push(msg.message);
    }),
  );
  return errors;
}

test("a full server says so in the server's words, and the lobby says who we wait for", async ({ browser, request }) => {
  required("CONFAB_BASE_URL");
  const code = await createMeeting(request, { title: "Busy office" });
  const page = await guestPage(browser);
  // Every free line taken by plain signalling connections from another tab.
  const holder = await page.context().newPage();
  await holder.goto(`/j/${code}`);
  const people = crowd(holder);
  const now = await lines(request);
  await people.join(code, now.licensed - now.in_use, "Caller");
  try {
    const errors = serverErrors(page, "server_full");
    await join(page, code, "Late guest");
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]).toMatch(/^All \d+ lines are in use\./);
    await expect(page.getByRole("alert")).toHaveText(errors[0]!);
    await page.screenshot({ path: `${GUEST_DIR}/server-full.png` });
  } finally {
    await people.leave();
    await holder.close();
  }

  const lobby = await createMeeting(request, { title: "Interviews", lobby: true });
  await page.goto(`/j/${lobby}`);
  await expect(page.getByText("You wait in the lobby until the host lets you in.")).toBeVisible();
  await join(page, lobby, "Candidate");
  await expect(page.getByRole("heading", { name: "Waiting for the host" })).toBeVisible();
  await page.getByRole("button", { name: "Leave" }).click();
  await expect(page.getByRole("heading", { name: "You left the meeting" })).toBeVisible();
});

test("an unknown code is a 404 page that says so", async ({ page }) => {
  required("CONFAB_BASE_URL");
  const response = await page.goto("/j/zzz-zzzz-zzz");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Meeting not found" })).toBeVisible();
});
