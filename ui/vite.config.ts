import { resolve } from "node:path";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vitest/config";

// Three pages share one build: index.html (the desktop app's window),
// admin.html (the admin console, which the server serves at /admin and, for
// first-run setup, at /admin/setup) and guest.html (the browser guest page,
// which the server fills with the meeting and serves at /j/<code>).
//
// Asset paths stay relative (`base: "./"`) for index.html, so it works
// wherever it is mounted. The server's pages are different: relative
// `./assets/…` from /admin/setup or /j/<code> would resolve under that path,
// so their own tags point at /assets/… from the site root, where the server
// serves ui/dist/assets.
// Inside the bundles, chunks still import each other relative to their own
// URL, which is /assets/… either way.
const SERVED_FROM_ROOT = ["admin.html", "guest.html"];

export default defineConfig({
  base: "./",
  plugins: [svelte()],
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    // `CONFAB_DEV_SERVER=https://127.0.0.1:8443 npm run dev` talks to a
    // running confab-server from the dev page at /admin.html.
    proxy: process.env.CONFAB_DEV_SERVER
      ? {
          "/api": { target: process.env.CONFAB_DEV_SERVER, secure: false },
          "/ws": { target: process.env.CONFAB_DEV_SERVER, secure: false, ws: true },
        }
      : undefined,
  },
  build: {
    // WebKitGTK 2.50 and current Chromium both run ES2022 natively.
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    rollupOptions: {
      input: {
        main: resolve(import.meta.dirname, "index.html"),
        admin: resolve(import.meta.dirname, "admin.html"),
        guest: resolve(import.meta.dirname, "guest.html"),
      },
    },
  },
  experimental: {
    renderBuiltUrl(filename, { hostType, hostId }) {
      if (hostType === "html" && SERVED_FROM_ROOT.includes(hostId)) return `/${filename}`;
      return { relative: true };
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
    // Local-time conversions are tested against a zone with an offset and
    // daylight saving time, whatever the machine's zone is.
    env: { TZ: "Europe/Berlin" },
  },
});
