// The wire types the admin console uses, in one place.
//
// Everything comes from the ts-rs files in lib/generated/ except the four
// types below the line: `crates/proto/src/live.rs` defines them and
// `bindings.rs` exports them, but their .ts files have not been generated
// on this branch yet (generated files are never written by hand). Until
// `CONFAB_UPDATE_BINDINGS=1 cargo test --workspace bindings` runs, they are
// mirrored here field for field; afterwards replace each with
// `export type { X } from "../lib/generated/X";`.

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

// ---- mirrors of crates/proto/src/live.rs until their bindings exist ----

/** The licence as the admin console shows it. */
export type LicenceInfo = {
  /** `true` when a valid licence is installed; `false` means the free tier. */
  licensed: boolean;
  /** Lines available now. */
  lines: number;
  /** One sentence for every admin page, e.g. "Free tier: 5 lines (no licence installed)". */
  summary: string;
  licensee?: string;
  licence_id?: string;
  /** RFC 3339. */
  expires_at?: string;
  /** Why an installed file is not in force, when it is not. */
  problem?: string;
};

/** Concurrent lines in one period of the usage chart. */
export type UsagePoint = {
  /** Start of the period, unix milliseconds. */
  at_ms: number;
  /** Most lines in use at once during the period. */
  peak: number;
  /** Lines licensed at the end of the period. */
  licensed: number;
  /** Joins refused because every line was taken. */
  refused: number;
};

/** One day's peak, for sizing a licence. */
export type UsageDay = {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  peak: number;
  licensed: number;
  refused: number;
};

/** Answer of `GET /api/admin/usage`. */
export type UsageHistory = {
  /** Length of each point's period, in minutes. */
  bucket_minutes: number;
  points: Array<UsagePoint>;
  days: Array<UsageDay>;
};
