// A reference "extra participant" for CONFAB_EXTRA_PARTICIPANT (see
// extra-participant.ts): one more headless Chromium that joins the guest
// page at CONFAB_JOIN_URL as CONFAB_PARTICIPANT_NAME with its fake camera
// and microphone, and stays until SIGTERM. It proves the hook end to end;
// the Rust meeting client is meant to take its place.
//
//   CONFAB_EXTRA_PARTICIPANT='node e2e/browser-participant.mjs' npm run e2e -- guest
import { chromium } from "@playwright/test";

const url = process.env.CONFAB_JOIN_URL;
const name = process.env.CONFAB_PARTICIPANT_NAME ?? "Extra participant";
if (!url) throw new Error("Set CONFAB_JOIN_URL (the guest spec does).");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
});
const stop = async () => {
  await browser.close();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());

const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
await page.goto(url);
await page.getByLabel("Your name").fill(name);
await page.getByRole("button", { name: "Join", exact: true }).click();
await page.getByRole("figure", { name: `${name} (you)` }).waitFor({ timeout: 20_000 });
console.log(`${name} joined ${url}`);
// Bounded: the spec stops it long before this.
setTimeout(() => void stop(), 5 * 60_000);
