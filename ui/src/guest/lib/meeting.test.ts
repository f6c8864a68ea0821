import { describe, expect, it } from "vitest";
import { parseMeeting as readMeeting, signallingUrl } from "./meeting";

const page = (script: string | null) => script;

describe("parseMeeting", () => {
  it("reads what the server embeds, including an escaped <", () => {
    const json = '{"code":"kqz-rmtp-wfa","title":"\\u003c/script> review","passcode_required":true,"lobby":false,"not_open":null}';
    expect(readMeeting(page(json))).toEqual({
      code: "kqz-rmtp-wfa",
      title: "</script> review",
      passcode_required: true,
      lobby: false,
      not_open: null,
    });
  });

  it("says what is wrong when the data is missing or damaged", () => {
    expect(readMeeting(page(null))).toMatch(/lacks its meeting/);
    expect(readMeeting(page("{not json"))).toMatch(/damaged/);
    expect(readMeeting(page('{"code":4}'))).toMatch(/damaged/);
  });
});

describe("signallingUrl", () => {
  it("follows the page's scheme, host and port", () => {
    expect(signallingUrl(new URL("http://127.0.0.1:8443/j/kqz-rmtp-wfa?x=1#y"))).toBe("ws://127.0.0.1:8443/ws");
    expect(signallingUrl(new URL("https://office:8443/j/abc"))).toBe("wss://office:8443/ws");
  });
});
