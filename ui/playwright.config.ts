// End-to-end tests of the admin console and the welcome page against a
// running confab-server. No webServer here: start the server first, then
//
//   CONFAB_BASE_URL=https://127.0.0.1:8443 CONFAB_ADMIN_PASSWORD=… npm run e2e
//
// (see e2e/env.ts for every variable). The browser is Debian's Chromium;
// Playwright's own browser downloads are not used.
import { defineConfig } from "@playwright/test";
import { SHOTS_DIR } from "./e2e/env";

export default defineConfig({
  testDir: "e2e",
  // The specs share one server, and the admin spec counts its lines.
  workers: 1,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  outputDir: `${SHOTS_DIR}/results`,
  use: {
    baseURL: process.env.CONFAB_BASE_URL,
    // The server makes itself a self-signed certificate on first start.
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 800 },
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        // The guest spec: a fake camera (640×480 test pattern) and a fake
        // microphone (a beep), granted without a prompt, and audio that
        // plays without a click.
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        "--autoplay-policy=no-user-gesture-required",
      ],
    },
  },
});
