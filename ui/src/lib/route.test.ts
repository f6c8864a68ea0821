import { describe, expect, it } from "vitest";
import { parseRoute, routeHash } from "./route";

describe("routes", () => {
  it("round-trip a pre-join route with a host", () => {
    const hash = routeHash({ screen: "prejoin", code: "kqz-rmtp-wfa", host: "http://office:8443" });
    expect(hash).toBe("#/prejoin?code=kqz-rmtp-wfa&host=http%3A%2F%2Foffice%3A8443");
    expect(parseRoute(hash)).toEqual({
      screen: "prejoin",
      code: "kqz-rmtp-wfa",
      host: "http://office:8443",
    });
  });

  it("fall back to home for an empty or unknown hash", () => {
    expect(parseRoute("").screen).toBe("home");
    expect(parseRoute("#/nowhere").screen).toBe("home");
    expect(parseRoute("#/host").screen).toBe("host");
    expect(parseRoute("#/meeting?code=abc-defg-hij")).toEqual({ screen: "meeting", code: "abc-defg-hij", host: null });
  });
});
