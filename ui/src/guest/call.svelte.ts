// One guest's meeting: signalling, the one RTCPeerConnection, and what the
// page shows. The flow is docs/protocol.md's: hello, join, (lobby,) joined,
// one offer with 1 + 1 send and RECEIVE_SLOTS × 2 receive lines, answer,
// then media_slots say which receive lines carry whom. When the socket
// drops during the call it resumes the seat with the token from `joined`
// on a new socket (backing off, for as long as the server holds the seat)
// and offers media again, as the Rust client does.
import type { GuestMeeting } from "../lib/generated/GuestMeeting";
import type { Participant } from "../lib/generated/Participant";
import type { ServerMessage } from "../lib/generated/ServerMessage";
import { CAMERA, RECEIVE_SLOTS, forwardedCodecs, layerActivity, simulcastEncodings, simulcastSendRids, viewSize } from "./lib/media";
import { resumeDelay } from "../lib/backoff";
import { signallingUrl } from "./lib/meeting";
import { Signalling } from "./lib/signalling";

export type Phase = "form" | "joining" | "lobby" | "in" | "left";

/** Someone else in the meeting, and the stream their slots carry for us. */
export interface Remote {
  participant: Participant;
  audioMid: string | null;
  videoMid: string | null;
  stream: MediaStream | null;
}

export class Call {
  phase = $state<Phase>("form");
  /** Why joining failed or the call ended: the server's sentence when it gave one. */
  error = $state<string | null>(null);
  /** Something to tell the person during the call. */
  notice = $state<string | null>(null);
  me = $state<Participant | null>(null);
  remotes = $state.raw<Remote[]>([]);
  speaker = $state<number | null>(null);
  audioMuted = $state(false);
  videoMuted = $state(false);
  local = $state.raw<MediaStream | null>(null);
  /** The socket dropped during the call and the seat is being resumed. */
  reconnecting = $state(false);

  private signalling: Signalling | null = null;
  private pc: RTCPeerConnection | null = null;
  /**
   * After a resume, the media connection the new offer replaces. It is
   * closed only once the answer says the server has let go of it: closing
   * it earlier sends a DTLS close the server takes for the guest leaving.
   */
  private replaced: RTCPeerConnection | null = null;
  private videoSender: RTCRtpSender | null = null;
  private answered = false;
  // Bookkeeping for `view` messages, not shown: plain maps on purpose.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private views = new Map<number, [number, number]>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private sentViews = new Map<number, string>();
  /** Encoding changes are applied one after another (setParameters must not overlap). */
  private layers: Promise<void> = Promise.resolve();
  private readonly meeting: GuestMeeting;
  /** From the last `joined`; each works once. */
  private resumeToken: string | null = null;
  private heartbeatMs = 5000;
  /** The layers the server last asked us to send. */
  private rids: string[] = [];
  /** While resuming: when the socket dropped, tries so far, the next try. */
  private resume: { droppedAt: number; attempts: number; timer?: ReturnType<typeof setTimeout> } | null = null;

  constructor(meeting: GuestMeeting) {
    this.meeting = meeting;
  }

  async join(name: string, passcode: string): Promise<void> {
    if (this.phase === "joining" || this.phase === "lobby" || this.phase === "in") return;
    this.phase = "joining";
    this.error = null;
    this.notice = null;
    this.local = await openDevices().catch((reason: unknown) => {
      this.notice = deviceSentence(reason);
      return null;
    });
    this.audioMuted = false;
    this.videoMuted = false;
    this.connect(name, passcode);
  }

  private connect(name: string, passcode: string): void {
    this.signalling = new Signalling(
      signallingUrl(window.location),
      (message) => this.onMessage(message, name, passcode),
      () => this.onLost(name, passcode),
    );
  }

  leave(): void {
    // While reconnecting the server still holds the seat (and a licensed
    // line) for its heartbeat timeout: give it back now, not in 15 s.
    const held = this.reconnecting ? this.resumeToken : null;
    this.signalling?.send({ type: "leave" });
    this.end(null);
    if (held) giveBack(held);
  }

  /** Back to the form after the call ended. */
  again(): void {
    if (this.phase === "left") this.phase = "form";
  }

  toggleAudio(): void {
    this.audioMuted = !this.audioMuted;
    for (const track of this.local?.getAudioTracks() ?? []) track.enabled = !this.audioMuted;
    this.sendMediaState();
  }

  toggleVideo(): void {
    this.videoMuted = !this.videoMuted;
    for (const track of this.local?.getVideoTracks() ?? []) track.enabled = !this.videoMuted;
    this.sendMediaState();
  }

  /** The size a remote tile is shown at, in CSS pixels; sent as `view` once answered. */
  view(participant: number, width: number, height: number): void {
    this.views.set(participant, viewSize(width, height, window.devicePixelRatio || 1));
    this.flushViews();
  }

  private sendMediaState(): void {
    this.signalling?.send({ type: "media_state", audio_muted: this.audioMuted, video_muted: this.videoMuted });
  }

  private onMessage(message: ServerMessage, name: string, passcode: string): void {
    switch (message.type) {
      case "welcome":
        this.heartbeatMs = message.heartbeat_interval_ms;
        if (this.resume && this.resumeToken) {
          this.signalling?.send({ type: "resume", token: this.resumeToken });
          break;
        }
        this.signalling?.send({
          type: "join",
          meeting: this.meeting.code,
          name,
          kind: "browser",
          ...(this.meeting.passcode_required ? { passcode } : {}),
        });
        break;
      case "lobby":
        this.phase = "lobby";
        break;
      case "joined":
        this.resumeToken = message.resume_token;
        if (this.resume) {
          clearTimeout(this.resume.timer);
          this.resume = null;
          this.reconnecting = false;
          this.notice = null;
        }
        this.me = message.you;
        this.remotes = message.participants
          .filter((p) => p.id !== message.you.id)
          .map((participant) => ({ participant, audioMid: null, videoMid: null, stream: null }));
        this.phase = "in";
        if (this.audioMuted || this.videoMuted) this.sendMediaState();
        this.startMedia().catch((reason: unknown) => {
          this.notice = `Audio and video could not start: ${String(reason)}`;
        });
        break;
      case "error":
        if (message.code === "resume_failed") this.end(message.message, "form");
        else if (this.phase === "in") this.notice = message.message;
        else this.end(message.message);
        break;
      case "answer":
        this.pc
          ?.setRemoteDescription({ type: "answer", sdp: message.sdp })
          .then(() => {
            this.replaced?.close();
            this.replaced = null;
            this.answered = true;
            this.flushViews();
          })
          .catch((reason: unknown) => {
            this.notice = `The server's media answer was refused: ${String(reason)}`;
          });
        break;
      default:
        this.onMeetingMessage(message);
    }
  }

  private onMeetingMessage(message: ServerMessage): void {
    switch (message.type) {
      case "participant_joined":
        this.remotes = [
          ...this.remotes.filter((r) => r.participant.id !== message.participant.id),
          { participant: message.participant, audioMid: null, videoMid: null, stream: null },
        ];
        break;
      case "participant_updated":
        if (message.participant.id === this.me?.id) this.me = message.participant;
        this.updateRemote(message.participant.id, (r) => ({ ...r, participant: message.participant }));
        break;
      case "participant_left":
        this.remotes = this.remotes.filter((r) => r.participant.id !== message.participant);
        this.views.delete(message.participant);
        this.sentViews.delete(message.participant);
        break;
      case "media_slots":
        this.updateRemote(message.participant, (r) => ({
          ...r,
          audioMid: message.audio_mid,
          videoMid: message.video_mid,
          stream: this.streamOf([message.audio_mid, message.video_mid]),
        }));
        // The SFU starts a new subscriber at the lowest layer: say the real size again.
        this.sentViews.delete(message.participant);
        this.flushViews();
        break;
      case "media_slot_freed":
        this.updateRemote(message.participant, (r) => ({ ...r, audioMid: null, videoMid: null, stream: null }));
        break;
      case "send_layers":
        this.rids = message.rids;
        this.setLayers(message.rids);
        break;
      case "active_speaker":
        this.speaker = message.participant;
        break;
      case "mute_requested":
        this.notice = `${message.by} asks you to mute your microphone.`;
        break;
      case "removed":
        this.end(`${message.by} removed you from the meeting.`);
        break;
      case "meeting_ended":
        this.end(`${message.by} ended the meeting.`);
        break;
      case "left":
        this.end(null);
        break;
      default:
        break;
    }
  }

  private onLost(name: string, passcode: string): void {
    if (this.phase === "left" || this.phase === "form") return;
    if (this.phase === "in" && this.resumeToken) {
      this.signalling = null;
      this.resume ??= { droppedAt: performance.now(), attempts: 0 };
      this.reconnecting = true;
      // The server holds the seat for its heartbeat timeout, three intervals.
      const wait = resumeDelay(this.resume.attempts++, performance.now() - this.resume.droppedAt, 3 * this.heartbeatMs);
      if (wait === null) {
        this.end("The connection to the server was lost for too long. Join again to continue.", "form");
        return;
      }
      this.resume.timer = setTimeout(() => this.connect(name, passcode), wait);
      return;
    }
    this.end(
      this.phase === "in"
        ? "The connection to the server was lost. Join again to continue."
        : "The server closed the connection before you joined.",
    );
  }

  /**
   * Stops everything; `reason` is shown, or the call simply ends (left) /
   * goes back to the form. `then` overrides where the page goes.
   */
  private end(reason: string | null, then?: Phase): void {
    const wasIn = this.phase === "in" || this.phase === "lobby";
    clearTimeout(this.resume?.timer);
    this.resume = null;
    this.reconnecting = false;
    this.resumeToken = null;
    this.rids = [];
    this.signalling?.close();
    this.signalling = null;
    this.pc?.close();
    this.pc = null;
    this.replaced?.close();
    this.replaced = null;
    this.videoSender = null;
    this.answered = false;
    this.views.clear();
    this.sentViews.clear();
    for (const track of this.local?.getTracks() ?? []) track.stop();
    this.local = null;
    this.remotes = [];
    this.speaker = null;
    this.error = reason;
    this.phase = then ?? (wasIn || reason === null ? "left" : "form");
  }

  private async startMedia(): Promise<void> {
    // After a resume the new offer replaces the old media connection.
    this.replaced?.close();
    this.replaced = this.pc;
    this.answered = false;
    this.sentViews.clear();
    const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" });
    this.pc = pc;
    pc.onconnectionstatechange = () => {
      if (pc === this.pc && pc.connectionState === "failed") {
        this.notice = "Audio and video lost their connection to the server.";
      }
    };
    const audio = this.local?.getAudioTracks()[0];
    const video = this.local?.getVideoTracks()[0];
    const size = video?.getSettings();
    const sendEncodings = simulcastEncodings(size?.width, size?.height);
    const send = [
      pc.addTransceiver(audio ?? "audio", { direction: "sendonly" }),
      pc.addTransceiver(video ?? "video", { direction: "sendonly", sendEncodings }),
    ];
    this.videoSender = send[1]!.sender;
    const receive: RTCRtpTransceiver[] = [];
    for (let i = 0; i < RECEIVE_SLOTS; i++) {
      receive.push(pc.addTransceiver("audio", { direction: "recvonly" }));
      receive.push(pc.addTransceiver("video", { direction: "recvonly" }));
    }
    for (const transceiver of [...send, ...receive]) preferForwardedCodecs(transceiver);
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const rids = simulcastSendRids(offer.sdp ?? "");
    if (rids.join(";") !== sendEncodings.map((e) => e.rid).join(";")) {
      console.warn("simulcast layers are not offered lowest first:", rids);
    }
    this.signalling?.send({ type: "offer", sdp: offer.sdp ?? "" });
    // The server asks for layers as people arrive; until then nobody
    // receives us (after a resume, the layers it asked for last).
    this.setLayers(this.rids);
  }

  /** A stream of the receive tracks behind these mids. */
  private streamOf(mids: (string | null)[]): MediaStream | null {
    const tracks = (this.pc?.getTransceivers() ?? [])
      .filter((t) => t.mid !== null && mids.includes(t.mid))
      .map((t) => t.receiver.track);
    return tracks.length > 0 ? new MediaStream(tracks) : null;
  }

  private updateRemote(id: number, change: (remote: Remote) => Remote): void {
    this.remotes = this.remotes.map((r) => (r.participant.id === id ? change(r) : r));
  }

  private flushViews(): void {
    if (!this.answered) return;
    for (const [participant, [width, height]] of this.views) {
      const key = `${width}x${height}`;
      if (this.sentViews.get(participant) === key) continue;
      this.sentViews.set(participant, key);
      this.signalling?.send({ type: "view", participant, width, height });
    }
  }

  private setLayers(rids: string[]): void {
    const sender = this.videoSender;
    if (!sender) return;
    this.layers = this.layers.then(async () => {
      const params = sender.getParameters();
      const active = layerActivity(params.encodings, rids);
      if (params.encodings.every((e, i) => e.active === active[i])) return;
      params.encodings.forEach((e, i) => (e.active = active[i]!));
      await sender.setParameters(params).catch((reason: unknown) => console.warn("send_layers:", reason));
    });
  }
}

async function openDevices(): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new Error("insecure");
  }
  return navigator.mediaDevices.getUserMedia({ audio: true, video: CAMERA });
}

function deviceSentence(reason: unknown): string {
  if (reason instanceof Error && reason.message === "insecure") {
    return "This page is not on a secure (https) address, so the browser does not share a camera or microphone here. You can still watch and listen.";
  }
  const name = reason instanceof DOMException ? reason.name : "";
  if (name === "NotAllowedError") return "Camera and microphone are blocked for this page. You can still watch and listen.";
  if (name === "NotFoundError") return "No camera or microphone was found. You can still watch and listen.";
  return `The camera and microphone could not start (${String(reason)}). You can still watch and listen.`;
}

function preferForwardedCodecs(transceiver: RTCRtpTransceiver): void {
  const kind = transceiver.receiver.track.kind === "audio" ? "audio" : "video";
  const codecs = forwardedCodecs(kind, RTCRtpReceiver.getCapabilities(kind)?.codecs ?? []);
  // Without it (an older browser) the offer is only bigger, not wrong.
  if (codecs.length > 0 && "setCodecPreferences" in transceiver) transceiver.setCodecPreferences(codecs);
}

/** How long the page keeps trying to give a held seat back. */
const GIVE_BACK_MS = 5_000;
const GIVE_BACK_RETRY_MS = 250;

/**
 * Resumes a held seat on a connection of its own and leaves at once,
 * retrying while the network is still down. Best effort: if the server
 * cannot be reached in time, its timeout frees the seat.
 */
function giveBack(token: string, until = performance.now() + GIVE_BACK_MS): void {
  let done = false;
  const socket: Signalling = new Signalling(
    signallingUrl(window.location),
    (message) => {
      if (message.type === "welcome") socket.send({ type: "resume", token });
      else if (message.type === "joined") {
        done = true;
        socket.send({ type: "leave" });
        socket.close();
      } else if (message.type === "error") {
        done = true;
        socket.close();
      }
    },
    () => {
      if (!done && performance.now() + GIVE_BACK_RETRY_MS < until) {
        setTimeout(() => giveBack(token, until), GIVE_BACK_RETRY_MS);
      }
    },
  );
}
