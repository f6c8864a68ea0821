// The wire types the admin console uses, in one place. All of them are
// generated from the Rust definitions (ts-rs) into lib/generated/.

export type { AdminError } from "../lib/generated/AdminError";
export type { AdminErrorCode } from "../lib/generated/AdminErrorCode";
export type { ClientKind } from "../lib/generated/ClientKind";
export type { CreateMeeting } from "../lib/generated/CreateMeeting";
export type { LinesSnapshot } from "../lib/generated/LinesSnapshot";
export type { LiveConnection } from "../lib/generated/LiveConnection";
export type { LoginResponse } from "../lib/generated/LoginResponse";
export type { MeetingDetails } from "../lib/generated/MeetingDetails";
export type { MeetingLines } from "../lib/generated/MeetingLines";
export type { MeetingList } from "../lib/generated/MeetingList";
export type { SessionInfo } from "../lib/generated/SessionInfo";
export type { UpdateMeeting } from "../lib/generated/UpdateMeeting";

export type { LicenceInfo } from "../lib/generated/LicenceInfo";
export type { UsageDay } from "../lib/generated/UsageDay";
export type { UsageHistory } from "../lib/generated/UsageHistory";
export type { UsagePoint } from "../lib/generated/UsagePoint";
