// Meetings made for a spec through the admin API (docs/admin-api.md), as a
// script would: log in with the admin password, then a bearer token.
import { expect, type APIRequestContext } from "@playwright/test";
import type { CreateMeeting } from "../src/lib/generated/CreateMeeting";
import type { LinesSnapshot } from "../src/lib/generated/LinesSnapshot";
import { required } from "./env";

/** Logs in; the headers to send with admin requests. */
async function admin(request: APIRequestContext): Promise<Record<string, string>> {
  const password = required("CONFAB_ADMIN_PASSWORD");
  const login = await request.post("/api/admin/login", { data: { password } });
  expect(login.ok(), await login.text()).toBe(true);
  const { token, csrf } = (await login.json()) as { token: string; csrf: string };
  // The login also set a session cookie in this request context, so send
  // the CSRF token too: the request is valid as a bearer or a cookie session.
  return { Authorization: `Bearer ${token}`, "X-CSRF-Token": csrf };
}

/** Lines in use and licensed right now. */
export async function lines(request: APIRequestContext): Promise<LinesSnapshot> {
  const response = await request.get("/api/admin/lines", { headers: await admin(request) });
  expect(response.ok(), await response.text()).toBe(true);
  return (await response.json()) as LinesSnapshot;
}

/** Creates a meeting and returns its code. */
export async function createMeeting(request: APIRequestContext, meeting: CreateMeeting): Promise<string> {
  const created = await request.post("/api/admin/meetings", {
    data: meeting,
    headers: await admin(request),
  });
  expect(created.ok(), await created.text()).toBe(true);
  return ((await created.json()) as { code: string }).code;
}
