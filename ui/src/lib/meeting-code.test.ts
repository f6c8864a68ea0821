import { describe, expect, it } from "vitest";
import { parseMeetingInput } from "./meeting-code";

describe("parseMeetingInput", () => {
  it("accepts a canonical code", () => {
    expect(parseMeetingInput("kqz-rmtp-wfa")).toEqual({
      ok: true,
      target: { code: "kqz-rmtp-wfa", host: null },
    });
  });

  it("normalises case, spaces and missing dashes", () => {
    const r = parseMeetingInput("  KQZ rmtp WFA ");
    expect(r.ok && r.target.code).toBe("kqz-rmtp-wfa");
    const r2 = parseMeetingInput("kqzrmtpwfa");
    expect(r2.ok && r2.target.code).toBe("kqz-rmtp-wfa");
  });

  it("takes the host and code from a join link", () => {
    expect(parseMeetingInput("https://office.example:8443/j/kqz-rmtp-wfa")).toEqual({
      ok: true,
      target: { code: "kqz-rmtp-wfa", host: "https://office.example:8443" },
    });
  });

  it("refuses links that are not join links, with a reason", () => {
    const r = parseMeetingInput("https://office.example/admin");
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/join link/);
  });

  it("refuses codes of the wrong length or with digits", () => {
    for (const bad of ["kqz-rmtp", "kqz-rmtp-wfaa", "kq1-rmtp-wfa", ""]) {
      expect(parseMeetingInput(bad).ok, bad).toBe(false);
    }
  });
});
