// The welcome page at / and its join-by-code form.
import { expect, test, type APIRequestContext } from "@playwright/test";
import { SHOTS_DIR, required } from "./env";
import { createMeeting } from "./meetings";

/**
 * A meeting code to join: a real meeting when the admin password is given,
 * else a made-up one (the form only has to take the person to its join page).
 */
async function meetingCode(request: APIRequestContext): Promise<string> {
  if (!process.env.CONFAB_ADMIN_PASSWORD) return "kqz-rmtp-wfa";
  return createMeeting(request, { title: "E2E welcome" });
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
