// The vitest config runs these with TZ=Europe/Berlin (UTC+1 in winter,
// UTC+2 in summer), so local-time conversions are checked against a real offset.
import { describe, expect, it } from "vitest";
import {
  asSentence,
  formatDateTime,
  formatDay,
  formatDuration,
  formatSince,
  localInputToRfc3339,
  plural,
  rfc3339ToLocalInput,
} from "./format";

describe("time zone of the test run", () => {
  it("is Europe/Berlin", () => {
    expect(Intl.DateTimeFormat().resolvedOptions().timeZone).toBe("Europe/Berlin");
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0 s"],
    [-5000, "0 s"],
    [42_900, "42 s"],
    [245_000, "4 min 05 s"],
    [3_720_000, "1 h 02 min"],
    [2 * 86_400_000 + 3 * 3_600_000 + 59_000, "2 d 3 h"],
  ])("%i ms is %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("asSentence", () => {
  it("adds a full stop only where one is missing", () => {
    expect(asSentence("the licence expired on 2027-12-01 00:00 UTC; install a renewed licence")).toBe(
      "the licence expired on 2027-12-01 00:00 UTC; install a renewed licence.",
    );
    expect(asSentence("Done. ")).toBe("Done.");
    expect(asSentence("Really?")).toBe("Really?");
  });
});

describe("plural", () => {
  it("counts", () => {
    expect(plural(1, "line")).toBe("1 line");
    expect(plural(0, "line")).toBe("0 lines");
    expect(plural(3, "person", "people")).toBe("3 people");
  });
});

describe("local datetime to RFC 3339", () => {
  it("adds the winter offset", () => {
    expect(localInputToRfc3339("2026-12-01T09:00")).toBe("2026-12-01T09:00:00+01:00");
  });

  it("adds the summer offset and keeps seconds", () => {
    expect(localInputToRfc3339("2026-07-01T18:30:15")).toBe("2026-07-01T18:30:15+02:00");
  });

  it("names the same instant as the local time", () => {
    const iso = localInputToRfc3339("2026-03-29T12:00");
    expect(iso).not.toBeNull();
    expect(new Date(iso ?? "").getTime()).toBe(new Date(2026, 2, 29, 12, 0).getTime());
  });

  it("moves a time in the spring-forward gap to one that exists", () => {
    // 02:30 on 29 March 2026 does not exist in Berlin.
    expect(localInputToRfc3339("2026-03-29T02:30")).toBe("2026-03-29T03:30:00+02:00");
  });

  it("refuses what is not a time", () => {
    for (const bad of ["", "tomorrow", "2026-02-30T10:00", "2026-13-01T10:00", "2026-12-01 10:00", "2026-12-01T24:00"]) {
      expect(localInputToRfc3339(bad), bad).toBeNull();
    }
  });

  it("round-trips through the input value", () => {
    expect(rfc3339ToLocalInput("2026-12-01T08:00:00Z")).toBe("2026-12-01T09:00");
    expect(rfc3339ToLocalInput("2026-12-01T09:00:00+01:00")).toBe("2026-12-01T09:00");
    expect(rfc3339ToLocalInput("garbage")).toBe("");
    expect(localInputToRfc3339(rfc3339ToLocalInput("2026-06-15T06:45:00Z"))).toBe("2026-06-15T08:45:00+02:00");
  });
});

describe("dates for people", () => {
  const now = new Date(2026, 10, 30, 15, 0).getTime();

  it("shows only the time for a connection made today", () => {
    expect(formatSince(new Date(2026, 10, 30, 9, 5).getTime(), now, "en-GB")).toBe("09:05");
  });

  it("adds the day for an older one", () => {
    expect(formatSince(new Date(2026, 10, 29, 23, 50).getTime(), now, "en-GB")).toBe("Sun 29 Nov, 23:50");
  });

  it("shows a scheduled start in local time", () => {
    expect(formatDateTime("2026-12-01T08:00:00Z", "en-GB")).toBe("Tue, 1 Dec 2026, 09:00");
    expect(formatDateTime("nonsense", "en-GB")).toBe("nonsense");
  });

  it("names a UTC day without shifting it", () => {
    expect(formatDay("2026-11-29", "en-GB")).toBe("Sun 29 Nov");
  });
});
