// The welcome page at / and its join-by-code form.
import { expect, test, type APIRequestContext } from "@playwright/test";
import { SHOTS_DIR, required } from "./env";

/**
 * A meeting code to join: a real meeting when the admin password is given
 * (created through the admin API with a bearer token), else a made-up one
 * (the form only has to take the person to its join page).
 */
async function meetingCode(request: APIRequestContext): Promise<string> {
  const password = process.env.CONFAB_ADMIN_PASSWORD;
  if (!password) return "kqz-rmtp-wfa";
  const login = await request.post("/api/admin/login", { data: { password } });
  expect(login.ok(), await login.text()).toBe(true);
  const { token, csrf } = (await login.json()) as { token: string; csrf: string };
  // The login also set a session cookie in this request context, so send
  // the CSRF token too: the request is valid as a bearer or a cookie session.
  const created = await request.post("/api/admin/meetings", {
    data: { title: "E2E welcome" },
    headers: { Authorization: `Bearer ${token}`, "X-CSRF-Token": csrf },
  });
  expect(created.ok(), await created.text()).toBe(true);
  return ((await created.json()) as { code: string }).code;
}

test("the welcome page renders and joins by code", async ({ page, request }) => {
  required("CONFAB_BASE_URL");
  const code = await meetingCode(request);

  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1, name: "Confab" })).toBeVisible();
  await expect(page).toHaveTitle(/Confab/);

  const input = page.getByRole("textbox", { name: /code/i });
  await input.fill(code);
  await page.screenshot({ path: `${SHOTS_DIR}/welcome.png`, fullPage: true });
  await page.getByRole("button", { name: /^join/i }).click();

  await expect(page).toHaveURL(new RegExp(`/j/${code}$`));
  await page.screenshot({ path: `${SHOTS_DIR}/welcome-join.png`, fullPage: true });
});
