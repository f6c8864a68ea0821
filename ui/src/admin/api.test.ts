import { describe, expect, it, vi } from "vitest";
import { AdminApi, ApiError, inviteHref, type FetchLike } from "./api";

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
  credentials: RequestCredentials | undefined;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

/** A fetch that answers from a queue and records what it was asked. */
function stub(...answers: Array<Response | Error>) {
  const seen: Seen[] = [];
  const fetch: FetchLike = async (url, init) => {
    seen.push({
      url,
      method: init.method ?? "GET",
      headers: (init.headers ?? {}) as Record<string, string>,
      body: init.body,
      credentials: init.credentials,
    });
    const next = answers.shift();
    if (next === undefined) throw new Error(`unexpected request ${url}`);
    if (next instanceof Error) throw next;
    return next;
  };
  return { fetch, seen };
}

const SESSION = { username: "admin", kind: "cookie", csrf: "c-1", expires_at: "2026-12-01T00:00:00Z" };
const LOGIN = { token: "t", csrf: "c-2", expires_at: "2026-12-01T00:00:00Z" };

describe("AdminApi", () => {
  it("sends same-origin credentials and no CSRF header on GET", async () => {
    const { fetch, seen } = stub(json(200, SESSION), json(200, { meetings: [] }));
    const api = new AdminApi({ fetch });
    expect(await api.session()).toEqual(SESSION);
    await api.meetings();
    expect(seen[1]).toMatchObject({ url: "/api/admin/meetings", method: "GET", credentials: "same-origin" });
    expect(seen[1]?.headers["X-CSRF-Token"]).toBeUndefined();
  });

  it("sends the CSRF token of the session on every change", async () => {
    const { fetch, seen } = stub(json(200, LOGIN), new Response(null, { status: 204 }));
    const api = new AdminApi({ fetch });
    await api.login("correct horse");
    expect(seen[0]?.body).toBe(JSON.stringify({ password: "correct horse" }));
    expect(seen[0]?.headers["Content-Type"]).toBe("application/json");
    await api.endMeeting("kqz-rmtp-wfa");
    expect(seen[1]).toMatchObject({ url: "/api/admin/meetings/kqz-rmtp-wfa/end", method: "POST" });
    expect(seen[1]?.headers["X-CSRF-Token"]).toBe("c-2");
  });

  it("answers null for the session when nobody is logged in, without calling the 401 hook", async () => {
    const onUnauthenticated = vi.fn();
    const { fetch } = stub(json(401, { code: "unauthenticated", message: "Log in." }));
    const api = new AdminApi({ fetch, onUnauthenticated });
    expect(await api.session()).toBeNull();
    expect(onUnauthenticated).not.toHaveBeenCalled();
  });

  it("throws the API's code and sentence, and a wrong password does not count as a lost session", async () => {
    const onUnauthenticated = vi.fn();
    const { fetch } = stub(json(401, { code: "wrong_password", message: "That password is not right." }));
    const api = new AdminApi({ fetch, onUnauthenticated });
    const err = await api.login("nope").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: "wrong_password", status: 401, message: "That password is not right." });
    expect(onUnauthenticated).not.toHaveBeenCalled();
  });

  it("passes on too_many_attempts with its sentence", async () => {
    const { fetch } = stub(json(429, { code: "too_many_attempts", message: "Too many attempts. Wait a minute." }));
    await expect(new AdminApi({ fetch }).login("x")).rejects.toMatchObject({
      code: "too_many_attempts",
      message: "Too many attempts. Wait a minute.",
    });
  });

  it("calls the 401 hook when a session ends under a page", async () => {
    const onUnauthenticated = vi.fn();
    const { fetch } = stub(json(401, { code: "unauthenticated", message: "Log in again." }));
    const api = new AdminApi({ fetch, onUnauthenticated });
    await expect(api.lines()).rejects.toMatchObject({ code: "unauthenticated" });
    expect(onUnauthenticated).toHaveBeenCalledOnce();
  });

  it("refreshes the CSRF token once when another tab replaced the session", async () => {
    const { fetch, seen } = stub(
      json(200, LOGIN),
      json(403, { code: "csrf_failed", message: "Reload the page." }),
      json(200, { ...SESSION, csrf: "c-3" }),
      new Response(null, { status: 204 }),
    );
    const api = new AdminApi({ fetch });
    await api.login("pw");
    await api.deleteMeeting("abc-defg-hij");
    expect(seen.map((s) => `${s.method} ${s.url} ${s.headers["X-CSRF-Token"] ?? "-"}`)).toEqual([
      "POST /api/admin/login -",
      "DELETE /api/admin/meetings/abc-defg-hij c-2",
      "GET /api/admin/session -",
      "DELETE /api/admin/meetings/abc-defg-hij c-3",
    ]);
  });

  it("reports a server it cannot reach as network_error", async () => {
    const { fetch } = stub(new TypeError("Failed to fetch"));
    await expect(new AdminApi({ fetch }).lines()).rejects.toMatchObject({ code: "network_error", status: 0 });
  });

  it("turns an answer that is not an AdminError into a sentence with the status", async () => {
    const { fetch } = stub(new Response("<html>Bad gateway</html>", { status: 502, statusText: "Bad Gateway" }));
    const err = await new AdminApi({ fetch }).lines().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "bad_response", status: 502 });
    expect((err as Error).message).toBe("The server answered 502 Bad Gateway. Try again.");
  });

  it("accepts the meeting list as {meetings} or as a bare array", async () => {
    const m = { code: "abc-defg-hij", title: "Stand-up" };
    const { fetch } = stub(json(200, { meetings: [m] }), json(200, [m]));
    const api = new AdminApi({ fetch });
    expect(await api.meetings()).toEqual([m]);
    expect(await api.meetings()).toEqual([m]);
  });

  it("puts a licence file as raw bytes and passes on the refusal reason", async () => {
    const { fetch, seen } = stub(
      json(200, LOGIN),
      json(400, { code: "licence_refused", message: "The licence expired on 2027-12-01 00:00 UTC." }),
    );
    const api = new AdminApi({ fetch });
    await api.login("pw");
    const file = new Blob(['{"format":1}'], { type: "application/octet-stream" });
    await expect(api.installLicence(file)).rejects.toMatchObject({
      code: "licence_refused",
      message: "The licence expired on 2027-12-01 00:00 UTC.",
    });
    expect(seen[1]).toMatchObject({ url: "/api/admin/licence", method: "PUT", body: file });
    expect(seen[1]?.headers).toMatchObject({ "Content-Type": "application/json", "X-CSRF-Token": "c-2" });
  });

  it("encodes path parts and removes a connection by meeting and participant", async () => {
    const { fetch, seen } = stub(new Response(null, { status: 204 }), json(200, { bucket_minutes: 15, points: [], days: [] }));
    const api = new AdminApi({ fetch });
    await api.removeConnection("kqz-rmtp-wfa", 42n);
    await api.usage(7);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      "DELETE /api/admin/connections/kqz-rmtp-wfa/42",
      "GET /api/admin/usage?days=7",
    ]);
  });

  it("forgets the CSRF token at logout", async () => {
    const { fetch, seen } = stub(json(200, LOGIN), new Response(null, { status: 204 }), json(401, { code: "unauthenticated", message: "x" }));
    const api = new AdminApi({ fetch });
    await api.login("pw");
    await api.logout();
    expect(seen[1]?.headers["X-CSRF-Token"]).toBe("c-2");
    await api.createMeeting({ title: "x" }).catch(() => undefined);
    expect(seen[2]?.headers["X-CSRF-Token"]).toBeUndefined();
  });
});

describe("inviteHref", () => {
  it("uses the server's invite URL, else the documented path for scheduled meetings", () => {
    expect(inviteHref({ code: "a", starts_at: "2026-12-01T08:00:00Z", invite_url: "https://x/i.ics" })).toBe("https://x/i.ics");
    expect(inviteHref({ code: "kqz-rmtp-wfa", starts_at: "2026-12-01T08:00:00Z", invite_url: null })).toBe(
      "/api/admin/meetings/kqz-rmtp-wfa/invite.ics",
    );
    expect(inviteHref({ code: "a", starts_at: null, invite_url: null })).toBeNull();
  });
});
