import { describe, expect, it } from "vitest";
import type { Participant } from "../generated/app/Participant";
import { applyUpdate, dismiss, featured, galleryGrid, initialState, MAX_NOTICES, tileOrder, type MeetingState } from "./state";

function person(id: number, name: string, extra: Partial<Participant> = {}): Participant {
  return {
    id,
    name,
    kind: "app",
    host: false,
    hand_raised: false,
    audio_muted: false,
    video_muted: false,
    connected: true,
    joined_at_ms: id * 1000,
    ...extra,
  };
}

function joined(): MeetingState {
  return applyUpdate(initialState("kqz-rmtp-wfa"), {
    type: "joined",
    you: person(2, "Me"),
    meeting: { code: "kqz-rmtp-wfa", title: "Stand-up", locked: false },
    participants: [person(1, "Ana"), person(2, "Me")],
    chat: [],
    lobby: [],
  });
}

describe("meeting state", () => {
  it("joins with everyone and lists this person first", () => {
    const s = joined();
    expect(s.phase).toBe("in_meeting");
    expect(s.title).toBe("Stand-up");
    expect(tileOrder(s).map((p) => p.name)).toEqual(["Me", "Ana"]);
  });

  it("waits in the lobby, then joins when admitted", () => {
    let s = applyUpdate(initialState("abc"), { type: "in_lobby", meeting: { code: "abc", title: "Board", locked: false } });
    expect(s.phase).toBe("lobby");
    s = applyUpdate(s, { type: "joined", you: person(5, "Me"), meeting: { code: "abc", title: "Board", locked: false }, participants: [], chat: [], lobby: [] });
    expect(s.phase).toBe("in_meeting");
    expect(s.participants.map((p) => p.id)).toEqual([5]);
  });

  it("a denied lobby entry ends the wait with the server's sentence", () => {
    const s = applyUpdate(initialState("abc"), { type: "refused", code: "denied", message: "The host did not let you in." });
    expect(s.phase).toBe("over");
    expect(s.over).toBe("The host did not let you in.");
  });

  it("notices say who joined and left, and the refusal sentences as they are", () => {
    let s = joined();
    s = applyUpdate(s, { type: "participant_joined", participant: person(3, "Ben") });
    s = applyUpdate(s, { type: "participant_left", participant: 1, reason: "timed_out" });
    s = applyUpdate(s, { type: "refused", code: "server_full", message: "All 5 lines are in use. Try again when someone leaves." });
    expect(s.notices.map((n) => n.text)).toEqual([
      "Ben joined.",
      "Ana lost their connection.",
      "All 5 lines are in use. Try again when someone leaves.",
    ]);
    expect(s.notices[2]!.kind).toBe("warning");
    expect(s.participants.map((p) => p.name)).toEqual(["Me", "Ben"]);
    s = dismiss(s, s.notices[0]!.id);
    expect(s.notices).toHaveLength(2);
  });

  it("keeps only the newest notices", () => {
    let s = joined();
    for (let i = 0; i < MAX_NOTICES + 3; i++) s = applyUpdate(s, { type: "participant_joined", participant: person(10 + i, `P${i}`) });
    expect(s.notices).toHaveLength(MAX_NOTICES);
    expect(s.notices.at(-1)!.text).toBe(`P${MAX_NOTICES + 2} joined.`);
  });

  it("follows video streams and forgets them when a participant leaves", () => {
    let s = joined();
    s = applyUpdate(s, { type: "video", participant: 1, stream: "participant-1", width: 640, height: 360 });
    expect(s.videos[1]?.stream).toBe("participant-1");
    s = applyUpdate(s, { type: "participant_left", participant: 1, reason: "left" });
    expect(s.videos[1]).toBeUndefined();
  });

  it("the speaker view shows the active speaker, else the first other person", () => {
    let s = joined();
    expect(featured(s)).toBe(1);
    s = applyUpdate(s, { type: "participant_joined", participant: person(3, "Ben") });
    s = applyUpdate(s, { type: "active_speaker", participant: 3 });
    expect(featured(s)).toBe(3);
    // Speaking oneself does not put oneself on the big tile.
    s = applyUpdate(s, { type: "active_speaker", participant: 2 });
    expect(featured(s)).toBe(1);
  });

  it("ends for this person when the meeting ends, they are removed, or the connection fails", () => {
    expect(applyUpdate(joined(), { type: "ended", by: "Ana" }).over).toBe("Ana ended the meeting.");
    expect(applyUpdate(joined(), { type: "removed", by: "Ana" }).over).toBe("Ana removed you from the meeting.");
    const failed = applyUpdate(joined(), { type: "connection", state: "failed", reason: "the seat was given away" });
    expect(failed.phase).toBe("over");
    expect(failed.over).toContain("the seat was given away");
    const again = applyUpdate(joined(), { type: "connection", state: "reconnecting", reason: null });
    expect(again.notices.map((n) => n.text)).toEqual(["Reconnecting to the host…"]);
  });

  it("takes the quality grades as they come", () => {
    const s = applyUpdate(joined(), { type: "quality", overall: "fair", links: { 1: "fair" } });
    expect(s.quality).toBe("fair");
    expect(s.links[1]).toBe("fair");
  });
});

describe("gallery grid", () => {
  it("is as square as possible and stops at 5x5", () => {
    expect(galleryGrid(1)).toEqual({ columns: 1, rows: 1 });
    expect(galleryGrid(2)).toEqual({ columns: 2, rows: 1 });
    expect(galleryGrid(5)).toEqual({ columns: 3, rows: 2 });
    expect(galleryGrid(9)).toEqual({ columns: 3, rows: 3 });
    expect(galleryGrid(25)).toEqual({ columns: 5, rows: 5 });
    expect(galleryGrid(40)).toEqual({ columns: 5, rows: 5 });
  });

  it("shows at most 25 tiles", () => {
    let s = joined();
    for (let i = 0; i < 30; i++) s = applyUpdate(s, { type: "participant_joined", participant: person(100 + i, `P${i}`) });
    expect(tileOrder(s)).toHaveLength(25);
    expect(tileOrder(s)[0]!.name).toBe("Me");
  });
});
