// The admin console against a real confab-server: log in, create a meeting,
// put six live connections into it from this very page, watch the lines
// panel count them, remove one, and check the licence line on every page.
import { expect, test, type Page } from "@playwright/test";
import { SHOTS_DIR, required } from "./env";
import { crowd } from "./signalling";

const CONNECTIONS = 6;
const PAGES = ["Lines", "Meetings", "Licence", "Usage"] as const;

async function open(page: Page, name: (typeof PAGES)[number]) {
  await page.getByRole("navigation", { name: "Admin pages" }).getByRole("link", { name, exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name, exact: true })).toBeVisible();
}

async function figure(page: Page, testId: "lines-in-use" | "lines-licensed"): Promise<number> {
  const text = await page.getByTestId(testId).textContent();
  return Number(text?.trim());
}

test("the admin console counts, shows and removes live connections", async ({ page }) => {
  required("CONFAB_BASE_URL");
  const password = required("CONFAB_ADMIN_PASSWORD");
  const people = crowd(page);

  await test.step("log in", async () => {
    await page.goto("/admin");
    await expect(page.getByRole("heading", { name: "Log in to the admin console" })).toBeVisible();
    await page.screenshot({ path: `${SHOTS_DIR}/login.png` });
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Lines" })).toBeVisible();
    await expect(page.getByTestId("licence-summary")).toContainText(/\d+ lines?/);
    await expect(page.getByTestId("lines-in-use")).toHaveText(/^\d+$/);
  });

  const baseline = await figure(page, "lines-in-use");

  await test.step("make room for the connections", async () => {
    const licensed = await figure(page, "lines-licensed");
    if (licensed >= baseline + CONNECTIONS) return;
    const file = process.env.CONFAB_LICENCE_FILE;
    if (!file) {
      throw new Error(
        `The server has ${licensed} lines and ${baseline} in use, too few for ${CONNECTIONS} more: ` +
          "set CONFAB_LICENCE_FILE to a licence with more lines (see ui/e2e/env.ts).",
      );
    }
    await open(page, "Licence");
    await page.getByTestId("licence-file").setInputFiles(file);
    await page.getByRole("button", { name: "Install", exact: true }).click();
    await expect(page.getByText(/^Installed /)).toBeVisible();
    await expect(page.getByTestId("licence-summary")).toContainText("Licensed");
    await open(page, "Lines");
    await expect
      .poll(() => figure(page, "lines-licensed"), { message: "the installed licence has enough lines" })
      .toBeGreaterThanOrEqual(baseline + CONNECTIONS);
  });

  const title = `Load test ${new Date().toISOString().slice(11, 19)}`;
  let code = "";
  await test.step("create a meeting", async () => {
    await open(page, "Meetings");
    await page.getByRole("button", { name: "New meeting" }).click();
    await page.getByLabel("Title", { exact: true }).fill(title);
    await page.getByRole("button", { name: "Create meeting" }).click();
    await expect(page.getByTestId("created-meeting")).toBeVisible();
    code = (await page.getByTestId("created-code").textContent())?.trim() ?? "";
    expect(code).toMatch(/^[a-z]{3}-[a-z]{4}-[a-z]{3}$/);
    await expect(page.getByTestId("meeting-row").filter({ hasText: code })).toHaveCount(1);
  });

  try {
    await test.step(`open ${CONNECTIONS} signalling connections from the page`, async () => {
      await people.join(code, CONNECTIONS, "Guest");
    });

    const rows = page.getByTestId("connection-row").filter({ hasText: code });

    await test.step("the dashboard shows them", async () => {
      await open(page, "Lines");
      await expect(page.getByTestId("lines-in-use")).toHaveText(String(baseline + CONNECTIONS));
      await expect(rows).toHaveCount(CONNECTIONS);
      await expect(page.getByTestId("live-meeting-row").filter({ hasText: code })).toContainText(title);
      await page.screenshot({ path: `${SHOTS_DIR}/dashboard-under-load.png`, fullPage: true });
    });

    await test.step("remove one connection", async () => {
      await rows.first().getByRole("button", { name: /^Remove / }).click();
      const dialog = page.getByRole("dialog");
      await expect(dialog).toBeVisible();
      await dialog.getByRole("button", { name: "Remove", exact: true }).click();
      await expect(dialog).toBeHidden();
      await expect(rows).toHaveCount(CONNECTIONS - 1);
      await expect(page.getByTestId("lines-in-use")).toHaveText(String(baseline + CONNECTIONS - 1));
      await expect
        .poll(() => people.gone(), { message: "the removed connection was told or closed" })
        .toBe(1);
    });

    await test.step("every page states the licence", async () => {
      for (const name of PAGES) {
        await open(page, name);
        await expect(page.getByTestId("licence-summary")).toContainText(/\d+ lines?/);
      }
    });

    await test.step("the usage page", async () => {
      await open(page, "Usage");
      await expect(page.getByTestId("sizing-hint")).toHaveText(/^(Highest use in 7 days|No use recorded)/);
      await expect(page.getByTestId("usage-chart")).toBeVisible();
      await page.screenshot({ path: `${SHOTS_DIR}/usage.png`, fullPage: true });
    });

    await test.step("the meetings page", async () => {
      await open(page, "Meetings");
      await expect(page.getByTestId("meeting-row").filter({ hasText: code })).toContainText(title);
      await page.screenshot({ path: `${SHOTS_DIR}/meetings.png`, fullPage: true });
    });
  } finally {
    await people.leave().catch(() => undefined);
  }
});
