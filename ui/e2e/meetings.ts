// Meetings made for a spec through the admin API (docs/admin-api.md), as a
// script would: log in with the admin password, then a bearer token.
import { expect, type APIRequestContext } from "@playwright/test";
import type { CreateMeeting } from "../src/lib/generated/CreateMeeting";
import { required } from "./env";

/** Creates a meeting and returns its code. */
export async function createMeeting(request: APIRequestContext, meeting: CreateMeeting): Promise<string> {
  const password = required("CONFAB_ADMIN_PASSWORD");
  const login = await request.post("/api/admin/login", { data: { password } });
  expect(login.ok(), await login.text()).toBe(true);
  const { token, csrf } = (await login.json()) as { token: string; csrf: string };
  // The login also set a session cookie in this request context, so send
  // the CSRF token too: the request is valid as a bearer or a cookie session.
  const created = await request.post("/api/admin/meetings", {
    data: meeting,
    headers: { Authorization: `Bearer ${token}`, "X-CSRF-Token": csrf },
  });
  expect(created.ok(), await created.text()).toBe(true);
  return ((await created.json()) as { code: string }).code;
}
