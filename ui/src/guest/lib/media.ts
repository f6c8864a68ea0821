// The browser's side of the media design in docs/protocol.md ("Media"):
// what the one offer contains, and small pure helpers the call uses.

/**
 * Receive slots per kind in a browser's offer: meetings of up to 17 people
 * show everyone. Chromium 156's offer, with codecs narrowed to Opus and
 * VP8+RTX, is about 2.7 KB plus 2.3 KB per slot as a signalling message, so
 * 16 slots is about 39 KB, well inside the 64 KiB message limit
 * (docs/decisions.md, "Browser receive slots").
 */
export const RECEIVE_SLOTS = 16;

/** Simulcast layers, lowest first as the SFU expects (`a=simulcast:send l;m;h`). */
export const SIMULCAST_ENCODINGS: RTCRtpEncodingParameters[] = [
  { rid: "l", scaleResolutionDownBy: 4 },
  { rid: "m", scaleResolutionDownBy: 2 },
  { rid: "h" },
];

/**
 * Two layers, a half and the whole picture, for a camera smaller than
 * 960×540: Chromium makes only two layers of such a picture, and with three
 * encodings it drops the top one, so a 640×480 camera would reach a big tile
 * as 320×240 at best.
 */
export const SMALL_CAMERA_ENCODINGS: RTCRtpEncodingParameters[] = [
  { rid: "l", scaleResolutionDownBy: 2 },
  { rid: "h" },
];

/** The encodings for a camera that delivers `width`×`height` (unknown: the full ladder). */
export function simulcastEncodings(width?: number, height?: number): RTCRtpEncodingParameters[] {
  const small = width !== undefined && height !== undefined && width * height < 960 * 540;
  return (small ? SMALL_CAMERA_ENCODINGS : SIMULCAST_ENCODINGS).map((e) => ({ ...e }));
}

/** What the camera is asked for: modest, since simulcast encodes it three times. */
export const CAMERA: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24 } };

/** A codec capability as the browser lists it (RTCRtpCodec / RTCRtpCodecCapability). */
export interface Codec {
  mimeType: string;
  clockRate: number;
  channels?: number;
  sdpFmtpLine?: string;
}

/**
 * The codecs the SFU forwards (Opus; VP8 with RTX for retransmissions), in
 * the browser's own order. Offering only these keeps the offer small: every
 * other codec would be repeated in each of the 2 × (1 + slots) media lines.
 */
export function forwardedCodecs<C extends Codec>(kind: "audio" | "video", codecs: readonly C[]): C[] {
  const wanted = kind === "audio" ? ["audio/opus"] : ["video/vp8", "video/rtx"];
  return codecs.filter((c) => wanted.includes(c.mimeType.toLowerCase()));
}

/** The rids of the first `a=simulcast:send` line in `sdp`, in order. */
export function simulcastSendRids(sdp: string): string[] {
  const line = sdp.split(/\r?\n/).find((l) => l.startsWith("a=simulcast:send "));
  if (!line) return [];
  // "a=simulcast:send l;m;h" (alternatives after commas, paused ones with "~").
  return line
    .slice("a=simulcast:send ".length)
    .trim()
    .split(" ")[0]!
    .split(";")
    .map((alt) => alt.split(",")[0]!.replace(/^~/, ""));
}

/** Whether each encoding (by rid) should be sending, for a `send_layers` list. */
export function layerActivity(encodings: readonly { rid?: string }[], wanted: readonly string[]): boolean[] {
  return encodings.map((e) => e.rid !== undefined && wanted.includes(e.rid));
}

/**
 * The `view` size for a tile of `width`×`height` CSS pixels: device pixels,
 * rounded to 16 so that a window resized by a few pixels says nothing new.
 */
export function viewSize(width: number, height: number, pixelRatio: number): [number, number] {
  const round = (v: number) => Math.max(0, Math.round((v * pixelRatio) / 16) * 16);
  return [round(width), round(height)];
}
