// What the end-to-end specs read from the environment.
//
//   CONFAB_BASE_URL        the server, e.g. https://127.0.0.1:8443 (required)
//   CONFAB_ADMIN_PASSWORD  the admin password set at first-run setup (admin spec)
//   CONFAB_LICENCE_FILE    a licence file with at least 6 lines, installed through the
//                          console when the server has fewer (the free tier has 5), e.g.
//                          from `confab-license issue … --key-id confab-dev` against a
//                          server built with the dev-key feature (docs/licence.md)
//   CHROMIUM               the browser binary; default /usr/bin/chromium
//   CONFAB_EXTRA_PARTICIPANT  guest spec: a shell command that joins the spec's meeting as one
//                          more participant sending audio and video (e.g. the Rust client); see
//                          e2e/extra-participant.ts for what it is given

import { fileURLToPath } from "node:url";

/** Screenshots and failure artefacts: <repo>/test-output/admin-console/. */
export const SHOTS_DIR = fileURLToPath(new URL("../../test-output/admin-console", import.meta.url));

/** The guest spec's screenshots and logs: <repo>/test-output/guest/. */
export const GUEST_DIR = fileURLToPath(new URL("../../test-output/guest", import.meta.url));

export function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Set ${name} to run the end-to-end tests (see ui/e2e/env.ts).`);
  return value;
}
