import { describe, expect, it } from "vitest";
import { consolePath, hrefFor, routeFromHash, setupTokenFrom } from "./route";

describe("routes", () => {
  it("reads the page from the hash, defaulting to the dashboard", () => {
    expect(routeFromHash("")).toBe("dashboard");
    expect(routeFromHash("#/")).toBe("dashboard");
    expect(routeFromHash("#/meetings")).toBe("meetings");
    expect(routeFromHash("#usage")).toBe("usage");
    expect(routeFromHash("#/licence?x=1")).toBe("licence");
    expect(routeFromHash("#/nonsense")).toBe("dashboard");
  });

  it("writes hrefs that read back", () => {
    for (const r of ["dashboard", "meetings", "licence", "usage"] as const) {
      expect(routeFromHash(hrefFor(r))).toBe(r);
    }
  });
});

describe("setup link", () => {
  it("takes the token from /admin/setup?token=…", () => {
    expect(setupTokenFrom({ pathname: "/admin/setup", search: "?token=abc123" })).toBe("abc123");
  });

  it("is not a setup link without the path or the token", () => {
    expect(setupTokenFrom({ pathname: "/admin", search: "?token=abc" })).toBeNull();
    expect(setupTokenFrom({ pathname: "/admin/setup", search: "" })).toBeNull();
    expect(setupTokenFrom({ pathname: "/admin/setup", search: "?token=%20" })).toBeNull();
  });

  it("returns to the console's own path after setup", () => {
    expect(consolePath("/admin/setup")).toBe("/admin");
    expect(consolePath("/office/admin/setup/")).toBe("/office/admin");
    expect(consolePath("/setup")).toBe("/admin");
  });
});
