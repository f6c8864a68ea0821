//! The receive side: one VP8 decoder thread per remote participant, and one
//! audio thread that paces playout every 20 ms (jitter buffer → Opus
//! decoder per participant → mixer → speaker).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use confab_devices::{AudioFrame, Speaker};
use confab_media::VideoFrame;
use confab_media::audio::jitter::{JitterBuffer, Playout};
use confab_media::audio::mixer::{MixInput, Mixer};
use confab_media::audio::opus::{OPUS_FRAME_SAMPLES, OpusDecoder};
use confab_media::video::{EncodedFrame, VideoError, Vp8Decoder};
use confab_proto::signal::ParticipantId;
use tokio::sync::{mpsc, watch};

use crate::assemble::KEYFRAME_REQUEST_GAP;
use crate::error::ClientError;
use crate::events::MeetingEvent;

const TICK: Duration = Duration::from_millis(20);

/// Called on the decoder's thread with every decoded picture.
pub type FrameCallback = Arc<dyn Fn(ParticipantId, &VideoFrame) + Send + Sync>;
/// Called on the audio thread with every 20 ms a participant played.
pub type AudioCallback = Arc<dyn Fn(ParticipantId, &[f32]) + Send + Sync>;

/// What was received from one participant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReceiveStats {
    /// VP8 frames that arrived.
    pub video_frames: u64,
    pub frames_decoded: u64,
    /// Keyframe requests sent because frames were lost beyond repair or
    /// the decoder lost its reference.
    pub keyframe_requests: u64,
    pub audio_packets: u64,
    /// Milliseconds of their audio decoded (concealment included).
    pub audio_ms: u64,
    /// Lost audio packets rebuilt from the next packet's in-band FEC.
    pub audio_fec: u64,
    /// 20 ms frames the decoder concealed (PLC) because their packet was
    /// lost or not there in time.
    pub audio_concealed: u64,
    /// Audio packets playout passed without (lost, or too late).
    pub audio_lost: u64,
    /// The latest packet loss str0m reported for their slots, 0–1.
    pub loss: Option<f32>,
}

/// Shared counters, per participant.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counters(Arc<Mutex<HashMap<ParticipantId, ReceiveStats>>>);

impl Counters {
    pub(crate) fn lock(&self) -> MutexGuard<'_, HashMap<ParticipantId, ReceiveStats>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn update(&self, p: ParticipantId, f: impl FnOnce(&mut ReceiveStats)) {
        f(self.lock().entry(p).or_default());
    }
}

/// The latest picture of one participant, or none yet.
pub type LatestFrame = watch::Receiver<Option<Arc<VideoFrame>>>;
type FrameSender = watch::Sender<Option<Arc<VideoFrame>>>;

/// Latest decoded frame per participant: a slow reader skips frames.
#[derive(Debug, Clone, Default)]
pub(crate) struct FrameBus(Arc<Mutex<HashMap<ParticipantId, FrameSender>>>);

impl FrameBus {
    fn lock(&self) -> MutexGuard<'_, HashMap<ParticipantId, FrameSender>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn subscribe(&self, p: ParticipantId) -> LatestFrame {
        self.lock()
            .entry(p)
            .or_insert_with(|| watch::channel(None).0)
            .subscribe()
    }

    fn publish(&self, p: ParticipantId, frame: Arc<VideoFrame>) {
        let mut map = self.lock();
        let tx = map.entry(p).or_insert_with(|| watch::channel(None).0);
        tx.send_replace(Some(frame));
    }
}

/// One compressed frame for a decoder thread.
#[derive(Debug)]
pub(crate) struct VideoPacket {
    pub(crate) data: Arc<[u8]>,
    pub(crate) contiguous: bool,
    pub(crate) rtp_time: u32,
}

/// A decoder thread for one participant; it ends when this is dropped.
#[derive(Debug)]
pub(crate) struct VideoReceiver {
    tx: std_mpsc::Sender<VideoPacket>,
    _thread: JoinHandle<()>,
}

/// What a decoder thread needs from the meeting.
#[derive(Clone)]
pub(crate) struct VideoSinks {
    pub(crate) bus: FrameBus,
    pub(crate) counters: Counters,
    pub(crate) callback: Option<FrameCallback>,
    pub(crate) events: mpsc::UnboundedSender<MeetingEvent>,
    /// Participants whose decoder wants a keyframe.
    pub(crate) keyframes: mpsc::UnboundedSender<ParticipantId>,
}

impl std::fmt::Debug for VideoSinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoSinks").finish_non_exhaustive()
    }
}

impl VideoReceiver {
    pub(crate) fn start(participant: ParticipantId, sinks: VideoSinks) -> std::io::Result<Self> {
        let (tx, rx) = std_mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("confab decode {participant}"))
            .spawn(move || decode_loop(participant, &rx, &sinks))?;
        Ok(Self {
            tx,
            _thread: thread,
        })
    }

    pub(crate) fn push(&self, packet: VideoPacket) {
        let _ = self.tx.send(packet);
    }
}

fn decode_loop(p: ParticipantId, rx: &std_mpsc::Receiver<VideoPacket>, sinks: &VideoSinks) {
    let mut decoder = match Vp8Decoder::new() {
        Ok(d) => d,
        Err(e) => {
            let _ = sinks.events.send(MeetingEvent::MediaError(e.to_string()));
            return;
        }
    };
    let mut picture_id: u64 = 0;
    let mut last_request: Option<Instant> = None;
    let mut size = (0, 0);
    let mut frame = EncodedFrame::default();
    while let Ok(packet) = rx.recv() {
        sinks.counters.update(p, |s| s.video_frames += 1);
        // The SFU keeps each slot one continuous stream; a break in it is
        // a lost frame, which the decoder must see as a picture-id gap.
        picture_id += if packet.contiguous { 1 } else { 2 };
        frame.data.clear();
        frame.data.extend_from_slice(&packet.data);
        frame.picture_id = picture_id;
        frame.keyframe = packet.data.first().is_some_and(|b| b & 1 == 0);
        frame.timestamp = Duration::from_micros(u64::from(packet.rtp_time) * 100 / 9);
        match decoder.decode(&frame) {
            Ok(Some(picture)) => {
                sinks.counters.update(p, |s| s.frames_decoded += 1);
                let picture = picture.detach();
                if (picture.width(), picture.height()) != size {
                    size = (picture.width(), picture.height());
                    let _ = sinks.events.send(MeetingEvent::VideoAvailable {
                        participant: p,
                        width: size.0,
                        height: size.1,
                    });
                }
                if let Some(cb) = &sinks.callback {
                    cb(p, &picture);
                }
                sinks.bus.publish(p, Arc::new(picture));
            }
            Ok(None) => {}
            Err(VideoError::NeedKeyframe(_)) => {
                let now = Instant::now();
                if last_request.is_none_or(|t| now >= t + KEYFRAME_REQUEST_GAP) {
                    last_request = Some(now);
                    sinks.counters.update(p, |s| s.keyframe_requests += 1);
                    let _ = sinks.keyframes.send(p);
                }
            }
            Err(e) => {
                let _ = sinks.events.send(MeetingEvent::MediaError(e.to_string()));
            }
        }
    }
}

/// What the driver hands the audio thread.
#[derive(Debug)]
pub(crate) enum AudioIn {
    Packet {
        participant: ParticipantId,
        seq: u16,
        rtp_time: u32,
        payload: Arc<[u8]>,
        arrival: Instant,
    },
    /// Their slot was freed: drop their stream.
    Remove(ParticipantId),
    /// Play on this speaker from now on (`None`: on none); the answer says
    /// whether it started.
    Speaker(
        Option<Box<dyn Speaker>>,
        tokio::sync::oneshot::Sender<Result<(), ClientError>>,
    ),
}

/// The audio playout thread; stops when dropped.
#[derive(Debug)]
pub(crate) struct AudioPlayout {
    pub(crate) tx: std_mpsc::Sender<AudioIn>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for AudioPlayout {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Stream {
    jitter: JitterBuffer,
    decoder: OpusDecoder,
    pcm: Vec<f32>,
    playing: bool,
}

/// Mixes (20 ms each) the echo canceller's reference may hold unread:
/// 500 ms, the echo delay it can find. Without a bound, a meeting joined
/// with processing on and no microphone kept every mix (190 kB/s), and a
/// microphone added later was fed that whole backlog first.
pub(crate) const FAR_QUEUE: usize = 25;

/// Where played audio goes.
pub(crate) struct AudioSinks {
    pub(crate) speaker: Option<Box<dyn Speaker>>,
    pub(crate) callback: Option<AudioCallback>,
    /// The mix, for the echo canceller's far-end reference (at most
    /// [`FAR_QUEUE`] frames waiting).
    pub(crate) far: Option<std_mpsc::SyncSender<Vec<f32>>>,
    pub(crate) counters: Counters,
    pub(crate) events: mpsc::UnboundedSender<MeetingEvent>,
}

impl std::fmt::Debug for AudioSinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioSinks").finish_non_exhaustive()
    }
}

impl AudioPlayout {
    pub(crate) fn start(sinks: AudioSinks) -> std::io::Result<Self> {
        let (tx, rx) = std_mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("confab audio playout".into())
            .spawn(move || playout_loop(&rx, sinks, &flag))?;
        Ok(Self {
            tx,
            stop,
            thread: Some(thread),
        })
    }
}

fn playout_loop(rx: &std_mpsc::Receiver<AudioIn>, mut sinks: AudioSinks, stop: &AtomicBool) {
    if let Some(s) = &mut sinks.speaker
        && let Err(e) = s.start()
    {
        let _ = sinks.events.send(MeetingEvent::MediaError(e.to_string()));
        sinks.speaker = None;
    }
    let mut streams: HashMap<ParticipantId, Stream> = HashMap::new();
    let mut mixer = Mixer::new();
    let mut mix = vec![0.0f32; OPUS_FRAME_SAMPLES];
    let started = Instant::now();
    let mut next = started + TICK;
    let mut played: u64 = 0;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        let now = Instant::now();
        // After a stall, restart the clock rather than play a burst.
        next = if now > next + 5 * TICK {
            now + TICK
        } else {
            next + TICK
        };
        while let Ok(msg) = rx.try_recv() {
            take(&mut streams, msg, &mut sinks);
        }
        for (&p, stream) in &mut streams {
            stream.playing = play_tick(stream, now);
            if stream.playing {
                let jitter = stream.jitter.stats();
                sinks.counters.update(p, |s| {
                    s.audio_ms += 20;
                    s.audio_fec = jitter.fec;
                    s.audio_concealed = jitter.concealed_loss + jitter.underruns;
                    s.audio_lost = jitter.lost;
                });
                if let Some(cb) = &sinks.callback {
                    cb(p, &stream.pcm);
                }
            }
        }
        let inputs: Vec<MixInput<'_>> = streams
            .values()
            .filter(|s| s.playing)
            .map(|s| MixInput {
                samples: &s.pcm,
                gain: 1.0,
            })
            .collect();
        mixer.mix(&inputs, &mut mix);
        if let Some(far) = &sinks.far {
            // Full only while no microphone reads it (joined without one,
            // or it was taken away): the mix is then dropped, not kept.
            let _ = far.try_send(mix.clone());
        }
        if let Some(speaker) = &mut sinks.speaker {
            let frame = AudioFrame {
                samples: mix.clone(),
                timestamp: Duration::from_millis(played * 20),
            };
            if let Err(e) = speaker.play(&frame) {
                let _ = sinks.events.send(MeetingEvent::MediaError(e.to_string()));
                sinks.speaker = None;
            }
        }
        played += 1;
    }
    if let Some(s) = &mut sinks.speaker {
        s.stop();
    }
}

fn take(streams: &mut HashMap<ParticipantId, Stream>, msg: AudioIn, sinks: &mut AudioSinks) {
    match msg {
        AudioIn::Packet {
            participant,
            seq,
            rtp_time,
            payload,
            arrival,
        } => {
            sinks.counters.update(participant, |s| s.audio_packets += 1);
            let stream = match streams.entry(participant) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let Ok(decoder) = OpusDecoder::new() else {
                        return;
                    };
                    e.insert(Stream {
                        jitter: JitterBuffer::new(),
                        decoder,
                        pcm: vec![0.0; OPUS_FRAME_SAMPLES],
                        playing: false,
                    })
                }
            };
            stream.jitter.push(seq, rtp_time, &payload, arrival);
        }
        AudioIn::Remove(p) => {
            streams.remove(&p);
        }
        AudioIn::Speaker(next, done) => {
            if let Some(mut old) = sinks.speaker.take() {
                old.stop();
            }
            let started = match next {
                Some(mut speaker) => speaker.start().map(|()| {
                    sinks.speaker = Some(speaker);
                }),
                None => Ok(()),
            };
            let _ = done.send(started.map_err(ClientError::from));
        }
    }
}

/// Decodes what the jitter buffer says for this tick; false when idle.
fn play_tick(stream: &mut Stream, now: Instant) -> bool {
    let Stream {
        jitter,
        decoder,
        pcm,
        ..
    } = stream;
    let result = match jitter.tick(now) {
        Playout::Idle => return false,
        Playout::Decode { payload, .. } => decoder.decode(payload, pcm),
        Playout::Fec { next_payload, .. } => decoder.recover_from_next(next_payload, pcm),
        Playout::Conceal(_) => decoder.conceal(pcm),
    };
    if result.is_err() {
        pcm.fill(0.0);
    }
    true
}

#[cfg(test)]
mod tests {

    use confab_devices::fake::{FakeSpeaker, Plug, Recording};
    use confab_devices::{DeviceId, DeviceInfo, DeviceKind};

    use super::*;

    #[test]
    fn an_unread_echo_reference_holds_at_most_half_a_second_and_playback_goes_on() {
        let played = Recording::default();
        let info = DeviceInfo {
            id: DeviceId("speaker".into()),
            name: "Speaker".into(),
            kind: DeviceKind::Speaker,
            is_default: true,
        };
        let (far_tx, far_rx) = std_mpsc::sync_channel(FAR_QUEUE);
        let (events, _events_rx) = mpsc::unbounded_channel();
        let playout = AudioPlayout::start(AudioSinks {
            speaker: Some(Box::new(FakeSpeaker::new(
                info,
                Plug::new(),
                played.clone(),
            ))),
            callback: None,
            far: Some(far_tx),
            counters: Counters::default(),
            events,
        })
        .expect("playout thread");
        // Nobody reads the reference (a meeting joined without a microphone)
        // while well over FAR_QUEUE mixes are played.
        let enough = (FAR_QUEUE + 15) * OPUS_FRAME_SAMPLES;
        let deadline = Instant::now() + Duration::from_secs(10);
        while played.len() < enough && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let waiting = far_rx.try_iter().count();
        // Before the playout stops: a playout blocked on a full queue would
        // never see its stop flag.
        drop(far_rx);
        drop(playout);
        assert!(
            played.len() >= enough,
            "the speaker played {} samples",
            played.len()
        );
        assert_eq!(waiting, FAR_QUEUE);
    }
}
