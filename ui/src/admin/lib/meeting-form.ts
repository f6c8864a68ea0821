// The meeting form's values and their translation into the API's create
// and update bodies. Kept apart from the component so it can be tested.

import type { CreateMeeting, MeetingDetails, UpdateMeeting } from "../types";
import { localInputToRfc3339, rfc3339ToLocalInput } from "./format";

export interface MeetingForm {
  title: string;
  /** Empty: no passcode. */
  passcode: string;
  lobby: boolean;
  public: boolean;
  scheduled: boolean;
  /** `datetime-local` value, local time. */
  start: string;
  durationMinutes: number;
  weekly: boolean;
}

export const PASSCODE_MIN = 4;
export const PASSCODE_MAX = 32;
export const DURATION_MAX = 1440;

/** A blank form; a schedule, if chosen, starts at the next full hour. */
export function blankForm(now: Date = new Date()): MeetingForm {
  const next = new Date(now);
  next.setMinutes(0, 0, 0);
  next.setHours(next.getHours() + 1);
  return {
    title: "",
    passcode: "",
    lobby: false,
    public: false,
    scheduled: false,
    start: rfc3339ToLocalInput(next.toISOString()),
    durationMinutes: 60,
    weekly: false,
  };
}

export function formFromMeeting(m: MeetingDetails, now: Date = new Date()): MeetingForm {
  const blank = blankForm(now);
  return {
    title: m.title,
    passcode: m.passcode ?? "",
    lobby: m.lobby,
    public: m.public,
    scheduled: m.starts_at !== null,
    start: m.starts_at !== null ? rfc3339ToLocalInput(m.starts_at) : blank.start,
    durationMinutes: m.duration_minutes ?? blank.durationMinutes,
    weekly: m.weekly,
  };
}

/** The first problem with the form, as a sentence, or `null` when it can be sent. */
export function validateForm(f: MeetingForm): string | null {
  if (f.title.trim() === "") return "Give the meeting a title.";
  const passcode = f.passcode.trim();
  if (passcode !== "" && (passcode.length < PASSCODE_MIN || passcode.length > PASSCODE_MAX)) {
    return `A passcode has ${PASSCODE_MIN} to ${PASSCODE_MAX} characters; leave it empty for none.`;
  }
  if (f.scheduled) {
    if (localInputToRfc3339(f.start) === null) return "Choose the date and time the meeting starts.";
    const d = f.durationMinutes;
    if (!Number.isInteger(d) || d < 1 || d > DURATION_MAX) {
      return `The duration is 1 to ${DURATION_MAX} minutes.`;
    }
  }
  return null;
}

/** The body of `POST /api/admin/meetings`. Call only when `validateForm` is happy. */
export function toCreate(f: MeetingForm): CreateMeeting {
  const body: CreateMeeting = { title: f.title.trim(), lobby: f.lobby, public: f.public };
  const passcode = f.passcode.trim();
  if (passcode !== "") body.passcode = passcode;
  const startsAt = f.scheduled ? localInputToRfc3339(f.start) : null;
  if (startsAt !== null) {
    body.starts_at = startsAt;
    body.duration_minutes = f.durationMinutes;
    body.weekly = f.weekly;
  }
  return body;
}

/** The body of `PATCH /api/admin/meetings/{code}`: only what changed. */
export function toUpdate(original: MeetingDetails, f: MeetingForm): UpdateMeeting {
  const change: UpdateMeeting = {};
  const title = f.title.trim();
  if (title !== original.title) change.title = title;
  const passcode = f.passcode.trim();
  if (passcode !== (original.passcode ?? "")) change.passcode = passcode === "" ? null : passcode;
  if (f.lobby !== original.lobby) change.lobby = f.lobby;
  if (f.public !== original.public) change.public = f.public;

  const startsAt = f.scheduled ? localInputToRfc3339(f.start) : null;
  if (startsAt === null) {
    if (original.starts_at !== null) change.starts_at = null;
    return change;
  }
  if (original.starts_at === null || Date.parse(original.starts_at) !== Date.parse(startsAt)) {
    change.starts_at = startsAt;
  }
  if (f.durationMinutes !== original.duration_minutes) change.duration_minutes = f.durationMinutes;
  if (f.weekly !== original.weekly) change.weekly = f.weekly;
  return change;
}
