// The meeting screen's state, changed only by `applyUpdate` from the app's
// `meeting-event` updates, so the screen's logic is tested without a
// window. Components read it and call the app; they hold no rules.

import type { ChatMessage } from "../generated/app/ChatMessage";
import type { LobbyEntry } from "../generated/app/LobbyEntry";
import type { MeetingUpdate } from "../generated/app/MeetingUpdate";
import type { Participant } from "../generated/app/Participant";
import type { Quality } from "../generated/app/Quality";

/** Most tiles the gallery shows (5×5). */
export const MAX_TILES = 25;
/** Most notices on screen at once; older ones give way. */
export const MAX_NOTICES = 4;

export type Phase = "joining" | "lobby" | "in_meeting" | "over";

export interface Notice {
  id: number;
  text: string;
  /** Warnings stay until dismissed; infos fade. */
  kind: "info" | "warning";
}

export interface Video {
  stream: string;
  width: number;
  height: number;
}

export interface MeetingState {
  phase: Phase;
  code: string;
  title: string;
  me: number | null;
  participants: Participant[];
  videos: Record<number, Video>;
  chat: ChatMessage[];
  lobby: LobbyEntry[];
  speaker: number | null;
  locked: boolean;
  quality: Quality;
  links: Record<number, Quality>;
  /** "connected", "reconnecting", "failed". */
  connection: string;
  notices: Notice[];
  /** Why the meeting is over for this person, when it is. */
  over: string | null;
  nextNotice: number;
}

export function initialState(code: string): MeetingState {
  return {
    phase: "joining",
    code,
    title: code,
    me: null,
    participants: [],
    videos: {},
    chat: [],
    lobby: [],
    speaker: null,
    locked: false,
    quality: "good",
    links: {},
    connection: "connected",
    notices: [],
    over: null,
    nextNotice: 1,
  };
}

function notify(s: MeetingState, text: string, kind: Notice["kind"] = "info"): MeetingState {
  const notices = [...s.notices, { id: s.nextNotice, text, kind }].slice(-MAX_NOTICES);
  return { ...s, notices, nextNotice: s.nextNotice + 1 };
}

export function dismiss(s: MeetingState, id: number): MeetingState {
  return { ...s, notices: s.notices.filter((n) => n.id !== id) };
}

function upsert(list: Participant[], p: Participant): Participant[] {
  return list.some((q) => q.id === p.id) ? list.map((q) => (q.id === p.id ? p : q)) : [...list, p];
}

function nameOf(s: MeetingState, id: number): string {
  return s.participants.find((p) => p.id === id)?.name ?? "Someone";
}

function without<T>(record: Record<number, T>, id: number): Record<number, T> {
  const copy = { ...record };
  delete copy[id];
  return copy;
}

const LEFT_BECAUSE: Record<string, string> = {
  left: "left",
  removed: "was removed",
  timed_out: "lost their connection",
  meeting_ended: "left as the meeting ended",
};

/** The state after one update from the app. */
export function applyUpdate(s: MeetingState, u: MeetingUpdate): MeetingState {
  switch (u.type) {
    case "joined":
      return {
        ...s,
        phase: "in_meeting",
        me: u.you.id,
        title: u.meeting.title,
        code: u.meeting.code,
        locked: u.meeting.locked,
        participants: u.participants.some((p) => p.id === u.you.id) ? u.participants : [u.you, ...u.participants],
        chat: u.chat,
        lobby: u.lobby,
      };
    case "in_lobby":
      return { ...s, phase: "lobby", title: u.meeting.title, code: u.meeting.code };
    case "lobby_changed": {
      const newcomers = u.lobby.filter((e) => !s.lobby.some((o) => o.id === e.id));
      let next: MeetingState = { ...s, lobby: u.lobby };
      for (const e of newcomers) next = notify(next, `${e.name} is waiting in the lobby.`);
      return next;
    }
    case "participant_joined":
      return notify({ ...s, participants: upsert(s.participants, u.participant) }, `${u.participant.name} joined.`);
    case "participant_updated":
      return { ...s, participants: upsert(s.participants, u.participant) };
    case "participant_left": {
      const text = `${nameOf(s, u.participant)} ${LEFT_BECAUSE[u.reason] ?? "left"}.`;
      const next = {
        ...s,
        participants: s.participants.filter((p) => p.id !== u.participant),
        videos: without(s.videos, u.participant),
        links: without(s.links, u.participant),
        speaker: s.speaker === u.participant ? null : s.speaker,
      };
      return notify(next, text);
    }
    case "chat":
      return { ...s, chat: [...s.chat, u.message] };
    case "active_speaker":
      return { ...s, speaker: u.participant };
    case "mute_requested":
      return notify(s, `${u.by} asks you to mute your microphone.`, "warning");
    case "locked":
      return notify({ ...s, locked: u.locked }, u.locked ? "The meeting is locked: nobody else can join." : "The meeting is unlocked.");
    case "ended":
      return { ...s, phase: "over", over: `${u.by} ended the meeting.` };
    case "removed":
      return { ...s, phase: "over", over: `${u.by} removed you from the meeting.` };
    case "left":
      return { ...s, phase: "over", over: s.over ?? "You left the meeting." };
    case "refused":
      // The server's sentence, e.g. "All 5 lines are in use…" or that the
      // media slots are full; a denied lobby entry ends the wait.
      if (u.code === "denied") return { ...s, phase: "over", over: u.message };
      return notify(s, u.message, "warning");
    case "media_problem":
      return notify(s, `Media problem: ${u.message}`, "warning");
    case "video":
      return { ...s, videos: { ...s.videos, [u.participant]: { stream: u.stream, width: u.width, height: u.height } } };
    case "video_ended":
      return { ...s, videos: without(s.videos, u.participant) };
    case "slots_full":
      return notify(s, `Showing ${u.shown} of ${u.others} others: this computer receives no more video at once.`, "warning");
    case "quality":
      return { ...s, quality: u.overall, links: u.links };
    case "connection":
      return connection(s, u.state, u.reason);
  }
}

function connection(s: MeetingState, state: string, reason: string | null): MeetingState {
  if (state === "media_connected") return s;
  if (state === "failed") {
    return { ...s, connection: state, phase: "over", over: `The connection to the host was lost: ${reason ?? "no reason given"}.` };
  }
  if (state === "reconnecting" && s.connection !== "reconnecting") {
    return notify({ ...s, connection: state }, "Reconnecting to the host…", "warning");
  }
  return { ...s, connection: state };
}

/** Participants in tile order: this person first, then by arrival. */
export function tileOrder(s: MeetingState): Participant[] {
  const others = s.participants
    .filter((p) => p.id !== s.me)
    .sort((a, b) => a.joined_at_ms - b.joined_at_ms || a.id - b.id);
  const me = s.participants.find((p) => p.id === s.me);
  return (me ? [me, ...others] : others).slice(0, MAX_TILES);
}

/** Columns and rows of a gallery of `n` tiles (at most 5×5). */
export function galleryGrid(n: number): { columns: number; rows: number } {
  const tiles = Math.max(1, Math.min(n, MAX_TILES));
  const columns = Math.ceil(Math.sqrt(tiles));
  return { columns, rows: Math.ceil(tiles / columns) };
}

/** Who fills the speaker view: the active speaker, else the first other
 * person, else this person alone. */
export function featured(s: MeetingState): number | null {
  if (s.speaker !== null && s.speaker !== s.me && s.participants.some((p) => p.id === s.speaker)) {
    return s.speaker;
  }
  return s.participants.find((p) => p.id !== s.me)?.id ?? s.me;
}

export const QUALITY_TEXT: Record<Quality, string> = {
  good: "Network: good",
  fair: "Network: fair",
  poor: "Network: poor",
};
