// Typed calls into the desktop app. Components use these, never `invoke`
// with a bare name, so a renamed command or changed type fails the check.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { CommandError } from "./generated/app/CommandError";
import type { DeviceChange } from "./generated/app/DeviceChange";
import type { DeviceLists } from "./generated/app/DeviceLists";
import type { DeviceState } from "./generated/app/DeviceState";
import type { FoundHost } from "./generated/app/FoundHost";
import type { FrameSocket } from "./generated/app/FrameSocket";
import type { HostStatus } from "./generated/app/HostStatus";
import type { InstantMeeting } from "./generated/app/InstantMeeting";
import type { JoinAnswer } from "./generated/app/JoinAnswer";
import type { JoinRequest } from "./generated/app/JoinRequest";
import type { MeetingUpdate } from "./generated/app/MeetingUpdate";
import type { RecentMeeting } from "./generated/app/RecentMeeting";
import type { Settings } from "./generated/app/Settings";

/** The sentence from a failed command, whatever shape the failure had. */
export function errorMessage(e: unknown): string {
  if (typeof e === "object" && e !== null && "message" in e) {
    return String((e as CommandError).message);
  }
  return String(e);
}

export const app = {
  frameSocket: () => invoke<FrameSocket>("frame_socket"),
  listDevices: () => invoke<DeviceLists>("list_devices"),
  previewCamera: (device: string | null, on: boolean) =>
    invoke<DeviceState>("preview_camera", { device, on }),
  previewMicrophone: (device: string | null, on: boolean) =>
    invoke<DeviceState>("preview_microphone", { device, on }),
  hostStatus: () => invoke<HostStatus>("host_status"),
  hostStart: (bind: string) => invoke<HostStatus>("host_start", { bind }),
  hostStop: () => invoke<HostStatus>("host_stop"),
  hostInstallLicence: (contents: string) =>
    invoke<HostStatus>("host_install_licence", { contents }),
  hostOpenAdmin: () => invoke<string>("host_open_admin"),
  foundHosts: () => invoke<FoundHost[]>("found_hosts"),
  loadSettings: () => invoke<Settings>("load_settings"),
  saveSettings: (settings: Settings) => invoke<Settings>("save_settings", { settings }),
  recentMeetings: () => invoke<RecentMeeting[]>("recent_meetings"),
  rememberMeeting: (meeting: RecentMeeting) =>
    invoke<RecentMeeting[]>("remember_meeting", { meeting }),
  /** Rejects with a `JoinFailure`. */
  meetingJoin: (request: JoinRequest) => invoke<JoinAnswer>("meeting_join", { request }),
  meetingTrustCertificate: (server: string, fingerprint: string) =>
    invoke<null>("meeting_trust_certificate", { server, fingerprint }),
  meetingLeave: () => invoke<null>("meeting_leave"),
  meetingChat: (text: string) => invoke<null>("meeting_chat", { text }),
  meetingRaiseHand: (raised: boolean) => invoke<null>("meeting_raise_hand", { raised }),
  meetingSetMuted: (muted: boolean) => invoke<null>("meeting_set_muted", { muted }),
  meetingSetCamera: (on: boolean, device: string | null) =>
    invoke<null>("meeting_set_camera", { on, device }),
  meetingSetMicrophone: (device: string | null) =>
    invoke<null>("meeting_set_microphone", { device }),
  meetingSetSpeaker: (device: string | null) =>
    invoke<null>("meeting_set_speaker", { device }),
  meetingSetView: (participant: number, width: number, height: number) =>
    invoke<null>("meeting_set_view", { participant, width, height }),
  meetingAdmit: (participant: number, admit: boolean) =>
    invoke<null>("meeting_admit", { participant, admit }),
  meetingCreateInstant: () => invoke<InstantMeeting>("meeting_create_instant"),
};

export function onMeetingUpdate(handler: (update: MeetingUpdate) => void): Promise<UnlistenFn> {
  return listen<MeetingUpdate>("meeting-event", (e) => handler(e.payload));
}

export function onMicLevel(handler: (level: number) => void): Promise<UnlistenFn> {
  return listen<number>("mic-level", (e) => handler(e.payload));
}

export function onDeviceChanged(handler: (change: DeviceChange) => void): Promise<UnlistenFn> {
  return listen<DeviceChange>("device-changed", (e) => handler(e.payload));
}
