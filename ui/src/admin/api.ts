// A typed client for the admin API under /api/admin/.
//
// Browsers use the HttpOnly session cookie the server sets at login; every
// request that changes something also sends the session's CSRF token in
// `X-CSRF-Token`. Errors arrive as `{code, message}` (AdminError) and are
// thrown as `ApiError`, whose message is a sentence to show as it is.

import type {
  AdminErrorCode,
  CreateMeeting,
  LicenceInfo,
  LinesSnapshot,
  LoginResponse,
  MeetingDetails,
  MeetingList,
  SessionInfo,
  UpdateMeeting,
  UsageHistory,
} from "./types";

/** An AdminError code, or one of the two ways a request fails before the API answers. */
export type ApiErrorCode = AdminErrorCode | "network_error" | "bad_response";

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;

  constructor(code: ApiErrorCode, message: string, status: number) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }
}

/** The message of any thrown value, as a sentence to show. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface ApiOptions {
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
  /** Called when a request fails because the session is gone (401 `unauthenticated`). */
  onUnauthenticated?: () => void;
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

interface Call {
  body?: BodyInit;
  contentType?: string;
  /** Whether a 401 means "the session ended" (not for login, setup and the session probe). */
  sessionRequired?: boolean;
}

const BASE = "/api/admin";

export class AdminApi {
  readonly #fetch: FetchLike;
  #csrf: string | null = null;
  onUnauthenticated: (() => void) | undefined;

  constructor(options: ApiOptions = {}) {
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.onUnauthenticated = options.onUnauthenticated;
  }

  /** The current session, or `null` when nobody is logged in. */
  async session(): Promise<SessionInfo | null> {
    try {
      const info = await this.#json<SessionInfo>("GET", "/session", { sessionRequired: false });
      this.#csrf = info.csrf;
      return info;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        this.#csrf = null;
        return null;
      }
      throw e;
    }
  }

  async login(password: string): Promise<LoginResponse> {
    const answer = await this.#json<LoginResponse>("POST", "/login", {
      ...jsonBody({ password }),
      sessionRequired: false,
    });
    this.#csrf = answer.csrf;
    return answer;
  }

  async logout(): Promise<void> {
    try {
      await this.#call("POST", "/logout", { sessionRequired: false });
    } finally {
      this.#csrf = null;
    }
  }

  /** First run: sets the admin password with the token from the setup link. */
  async setup(token: string, password: string): Promise<void> {
    const res = await this.#call("POST", "/setup", {
      ...jsonBody({ token, password }),
      sessionRequired: false,
    });
    const answer = await readJson(res).catch(() => null);
    if (isRecord(answer) && typeof answer.csrf === "string") this.#csrf = answer.csrf;
  }

  async meetings(): Promise<MeetingDetails[]> {
    // The admin branch answers `{meetings: [...]}` (MeetingList); a bare
    // array is accepted too.
    const answer = await this.#json<MeetingList | MeetingDetails[]>("GET", "/meetings");
    return Array.isArray(answer) ? answer : answer.meetings;
  }

  meeting(code: string): Promise<MeetingDetails> {
    return this.#json("GET", meetingPath(code));
  }

  createMeeting(meeting: CreateMeeting): Promise<MeetingDetails> {
    return this.#json("POST", "/meetings", jsonBody(meeting));
  }

  updateMeeting(code: string, change: UpdateMeeting): Promise<MeetingDetails> {
    return this.#json("PATCH", meetingPath(code), jsonBody(change));
  }

  async deleteMeeting(code: string): Promise<void> {
    await this.#call("DELETE", meetingPath(code));
  }

  /** Ends a live meeting for everyone in it. */
  async endMeeting(code: string): Promise<void> {
    await this.#call("POST", `${meetingPath(code)}/end`);
  }

  lines(): Promise<LinesSnapshot> {
    return this.#json("GET", "/lines");
  }

  /** Removes one connection from its meeting, freeing its line. */
  async removeConnection(meeting: string, participant: bigint | number | string): Promise<void> {
    const path = `/connections/${encodeURIComponent(meeting)}/${encodeURIComponent(String(participant))}`;
    await this.#call("DELETE", path);
  }

  licence(): Promise<LicenceInfo> {
    return this.#json("GET", "/licence");
  }

  /** Installs a licence file, sent exactly as it is; a refusal throws `licence_refused`. */
  installLicence(file: Blob | ArrayBuffer | string): Promise<LicenceInfo> {
    return this.#json("PUT", "/licence", { body: file, contentType: "application/json" });
  }

  usage(days = 7): Promise<UsageHistory> {
    return this.#json("GET", `/usage?days=${encodeURIComponent(String(days))}`);
  }

  async #json<T>(method: Method, path: string, call: Call = {}): Promise<T> {
    const res = await this.#call(method, path, call);
    try {
      return (await readJson(res)) as T;
    } catch {
      throw new ApiError("bad_response", "The server sent an answer this page cannot read.", res.status);
    }
  }

  /** Sends a request and throws `ApiError` unless it succeeded. */
  async #call(method: Method, path: string, call: Call = {}, retried = false): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (call.contentType) headers["Content-Type"] = call.contentType;
    if (method !== "GET" && this.#csrf !== null) headers["X-CSRF-Token"] = this.#csrf;
    let res: Response;
    try {
      res = await this.#fetch(BASE + path, {
        method,
        headers,
        body: call.body,
        credentials: "same-origin",
      });
    } catch {
      throw new ApiError(
        "network_error",
        "Could not reach the server. Check that it is running, then try again.",
        0,
      );
    }
    if (res.ok) return res;

    const error = await errorFrom(res);
    let sessionGone = error.status === 401;
    if (error.code === "csrf_failed" && !retried) {
      // Another tab may have logged in again and replaced the session:
      // fetch the current token and try once more.
      if ((await this.session()) !== null) return this.#call(method, path, call, true);
      sessionGone = true;
    }
    if (sessionGone && call.sessionRequired !== false) {
      this.#csrf = null;
      this.onUnauthenticated?.();
    }
    throw error;
  }
}

/** Where a scheduled meeting's calendar invitation downloads from; `null` for an instant meeting. */
export function inviteHref(m: Pick<MeetingDetails, "code" | "starts_at" | "invite_url">): string | null {
  if (m.invite_url) return m.invite_url;
  return m.starts_at ? `${BASE}${meetingPath(m.code)}/invite.ics` : null;
}

function meetingPath(code: string): string {
  return `/meetings/${encodeURIComponent(code)}`;
}

function jsonBody(value: unknown): Call {
  return { body: JSON.stringify(value), contentType: "application/json" };
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  return JSON.parse(text) as unknown;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

async function errorFrom(res: Response): Promise<ApiError> {
  const body = await readJson(res).catch(() => null);
  if (isRecord(body) && typeof body.code === "string" && typeof body.message === "string") {
    return new ApiError(body.code as AdminErrorCode, body.message, res.status);
  }
  if (res.status === 401) {
    return new ApiError("unauthenticated", "Your session has ended. Log in again.", 401);
  }
  const status = `${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;
  return new ApiError("bad_response", `The server answered ${status}. Try again.`, res.status);
}
