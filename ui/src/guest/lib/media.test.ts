import { describe, expect, it } from "vitest";
import {
  RECEIVE_SLOTS,
  SIMULCAST_ENCODINGS,
  forwardedCodecs,
  layerActivity,
  simulcastEncodings,
  simulcastSendRids,
  viewSize,
} from "./media";

describe("forwardedCodecs", () => {
  const video = [
    { mimeType: "video/VP8", clockRate: 90000 },
    { mimeType: "video/rtx", clockRate: 90000 },
    { mimeType: "video/VP9", clockRate: 90000, sdpFmtpLine: "profile-id=0" },
    { mimeType: "video/H264", clockRate: 90000 },
    { mimeType: "video/AV1", clockRate: 90000 },
    { mimeType: "video/red", clockRate: 90000 },
  ];
  it("keeps VP8 and RTX for video and Opus for audio, in the browser's order", () => {
    expect(forwardedCodecs("video", video).map((c) => c.mimeType)).toEqual(["video/VP8", "video/rtx"]);
    const audio = [
      { mimeType: "audio/opus", clockRate: 48000, channels: 2 },
      { mimeType: "audio/red", clockRate: 48000 },
      { mimeType: "audio/PCMU", clockRate: 8000 },
    ];
    expect(forwardedCodecs("audio", audio)).toEqual([audio[0]]);
  });
});

describe("simulcastSendRids", () => {
  it("reads Chromium's line: lowest layer first, as the encodings are given", () => {
    // From Chromium 156's offer for SIMULCAST_ENCODINGS.
    const sdp = "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=rid:l send\r\na=rid:m send\r\na=rid:h send\r\na=simulcast:send l;m;h\r\n";
    expect(simulcastSendRids(sdp)).toEqual(SIMULCAST_ENCODINGS.map((e) => e.rid));
    expect(simulcastSendRids("a=simulcast:send ~l,x;m\n")).toEqual(["l", "m"]);
    expect(simulcastSendRids("m=audio 9\r\n")).toEqual([]);
  });
});

describe("layerActivity", () => {
  it("sends only the layers the server lists, and nothing for []", () => {
    expect(layerActivity(SIMULCAST_ENCODINGS, ["l", "h"])).toEqual([true, false, true]);
    expect(layerActivity(SIMULCAST_ENCODINGS, [])).toEqual([false, false, false]);
    expect(layerActivity([{}], ["l"])).toEqual([false]);
  });
});

describe("viewSize", () => {
  it("reports device pixels rounded to 16", () => {
    expect(viewSize(317.4, 178.2, 1)).toEqual([320, 176]);
    expect(viewSize(320, 180, 2)).toEqual([640, 368]);
    expect(viewSize(0, 0, 1)).toEqual([0, 0]);
  });
});

describe("RECEIVE_SLOTS", () => {
  it("fits the measured offer in the 64 KiB signalling limit with room to spare", () => {
    // Measured with Chromium 156 (docs/decisions.md): bytes of the JSON `offer` message.
    const base = 2700;
    const perSlot = 2263;
    expect(base + perSlot * RECEIVE_SLOTS).toBeLessThan(0.7 * 64 * 1024);
  });
});

describe("simulcastEncodings", () => {
  it("gives a small camera two layers and a big or unknown one three, lowest first", () => {
    expect(simulcastEncodings(640, 480).map((e) => [e.rid, e.scaleResolutionDownBy])).toEqual([
      ["l", 2],
      ["h", undefined],
    ]);
    expect(simulcastEncodings(1280, 720).map((e) => e.rid)).toEqual(["l", "m", "h"]);
    expect(simulcastEncodings(960, 540).map((e) => e.rid)).toEqual(["l", "m", "h"]);
    expect(simulcastEncodings().map((e) => e.rid)).toEqual(["l", "m", "h"]);
  });

  it("hands out copies, so the call may change them", () => {
    const a = simulcastEncodings(640, 480);
    a[0]!.active = false;
    expect(simulcastEncodings(640, 480)[0]!.active).toBeUndefined();
  });
});
