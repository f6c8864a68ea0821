import { describe, expect, it } from "vitest";
import type { MeetingDetails } from "../types";
import { blankForm, formFromMeeting, toCreate, toUpdate, validateForm, type MeetingForm } from "./meeting-form";

// TZ=Europe/Berlin for this run (see vite.config.ts).
const NOW = new Date(2026, 10, 30, 14, 20);

const MEETING: MeetingDetails = {
  code: "kqz-rmtp-wfa",
  title: "Weekly sync",
  passcode: "4711",
  lobby: false,
  public: false,
  host_key: "hk",
  created_by: "admin",
  created_at: "2026-11-29T10:00:00Z",
  starts_at: "2026-12-01T08:00:00Z",
  duration_minutes: 45,
  weekly: true,
  join_url: "https://office.example/j/kqz-rmtp-wfa",
  invite_url: "https://office.example/api/admin/meetings/kqz-rmtp-wfa/invite.ics",
};

function form(over: Partial<MeetingForm> = {}): MeetingForm {
  return { ...blankForm(NOW), title: "Stand-up", ...over };
}

describe("blankForm", () => {
  it("proposes the next full hour for a schedule", () => {
    expect(blankForm(NOW)).toMatchObject({ title: "", scheduled: false, start: "2026-11-30T15:00", durationMinutes: 60 });
  });
});

describe("validateForm", () => {
  it("accepts a plain instant meeting", () => {
    expect(validateForm(form())).toBeNull();
  });

  it("explains what is missing or wrong", () => {
    expect(validateForm(form({ title: "  " }))).toMatch(/title/);
    expect(validateForm(form({ passcode: "123" }))).toMatch(/4 to 32/);
    expect(validateForm(form({ scheduled: true, start: "" }))).toMatch(/date and time/);
    expect(validateForm(form({ scheduled: true, durationMinutes: 0 }))).toMatch(/1 to 1440/);
    expect(validateForm(form({ scheduled: true, durationMinutes: 1441 }))).toMatch(/1 to 1440/);
  });

  it("ignores schedule fields of an instant meeting", () => {
    expect(validateForm(form({ scheduled: false, start: "", durationMinutes: 0 }))).toBeNull();
  });
});

describe("toCreate", () => {
  it("sends only a title and the switches for an instant meeting", () => {
    expect(toCreate(form({ title: "  Stand-up  ", start: "2026-12-01T09:00" }))).toEqual({
      title: "Stand-up",
      lobby: false,
      public: false,
    });
  });

  it("sends the start as RFC 3339 with the local offset", () => {
    expect(
      toCreate(form({ passcode: " 4711 ", lobby: true, scheduled: true, start: "2026-12-01T09:00", durationMinutes: 30, weekly: true })),
    ).toEqual({
      title: "Stand-up",
      passcode: "4711",
      lobby: true,
      public: false,
      starts_at: "2026-12-01T09:00:00+01:00",
      duration_minutes: 30,
      weekly: true,
    });
  });
});

describe("toUpdate", () => {
  it("sends nothing when nothing changed", () => {
    expect(toUpdate(MEETING, formFromMeeting(MEETING, NOW))).toEqual({});
  });

  it("reads the meeting back into the form in local time", () => {
    expect(formFromMeeting(MEETING, NOW)).toMatchObject({ scheduled: true, start: "2026-12-01T09:00", durationMinutes: 45, passcode: "4711" });
  });

  it("sends only the changed fields, and null to clear the passcode", () => {
    const f = { ...formFromMeeting(MEETING, NOW), title: "Weekly planning", passcode: "", lobby: true };
    expect(toUpdate(MEETING, f)).toEqual({ title: "Weekly planning", passcode: null, lobby: true });
  });

  it("sends a moved start and a new duration", () => {
    const f = { ...formFromMeeting(MEETING, NOW), start: "2026-12-01T10:30", durationMinutes: 60, weekly: false };
    expect(toUpdate(MEETING, f)).toEqual({ starts_at: "2026-12-01T10:30:00+01:00", duration_minutes: 60, weekly: false });
  });

  it("clears the schedule to make the meeting instant", () => {
    expect(toUpdate(MEETING, { ...formFromMeeting(MEETING, NOW), scheduled: false })).toEqual({ starts_at: null });
  });

  it("schedules an instant meeting", () => {
    const instant = { ...MEETING, starts_at: null, duration_minutes: null, weekly: false, invite_url: null };
    const f = { ...formFromMeeting(instant, NOW), scheduled: true, start: "2026-12-02T09:00" };
    expect(toUpdate(instant, f)).toEqual({ starts_at: "2026-12-02T09:00:00+01:00", duration_minutes: 60 });
  });
});
