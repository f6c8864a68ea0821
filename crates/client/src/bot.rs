//! What `confab-bot` publishes and measures, usable from tests too: a
//! chirp per participant name, and a [`Recorder`] that reads the frame
//! counters stamped into received pictures and finds chirps in received
//! audio.

use std::collections::HashMap;
use std::f64::consts::TAU;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use confab_media::VideoFrame;
use confab_media::synth::audio::{AudioSource, Chirp, ChirpDetector};
use confab_media::synth::video::read_stamp;
use confab_proto::signal::ParticipantId;
use serde_json::{Value, json};

use confab_devices::fake::{FakeCamera, FakeMicrophone, Pacing, Plug};
use confab_devices::{CameraFormat, DeviceId, DeviceInfo, DeviceKind};
use confab_media::synth::video::TestPattern;

use crate::capture::SendStats;
use crate::error::ClientError;
use crate::meeting::MediaOptions;
use crate::playback::{AudioCallback, FrameCallback, ReceiveStats};

/// One chirp sweep; the detector's template is this long.
pub const CHIRP_PERIOD: Duration = Duration::from_millis(50);
const HUM_HZ: f64 = 150.0;
const HUM_AMPLITUDE: f32 = 0.1;
/// A gap between two decoded pictures longer than this is a freeze.
pub const FREEZE: Duration = Duration::from_millis(500);
/// Received audio kept per participant for chirp detection: the last two
/// seconds (the matched filter is O(audio × template)).
const AUDIO_KEEP: usize = 2 * 48_000;
/// Lowest detector score that counts as the chirp (see `ChirpDetector::new`).
const CHIRP_THRESHOLD: f32 = 0.5;

/// The chirp a participant called `name` sends. Names map to eight
/// chirps of different sweep rates (up and down), which a matched filter
/// tells apart; chirps of the same rate but another band would not be.
pub fn chirp_for(name: &str) -> Chirp {
    let k = name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 8;
    let band = 500.0 + 400.0 * f64::from(k);
    let (f0, f1) = if k % 2 == 0 {
        (300.0, 300.0 + band)
    } else {
        (300.0 + band, 300.0)
    };
    Chirp::new(f0, f1, CHIRP_PERIOD, 0.3)
}

fn fake_info(kind: DeviceKind, name: &str) -> DeviceInfo {
    DeviceInfo {
        id: DeviceId(format!("fake-{kind}")),
        name: format!("{name}'s fake {kind}"),
        kind,
        is_default: true,
    }
}

/// Fake devices for a participant called `name`: a real-time camera
/// showing the stamped test pattern (`video` = width, height, fps) and a
/// microphone playing a [`ChirpTrain`] of [`chirp_for`]`(name)`, with `recorder` taking what
/// is received.
pub fn fake_media(
    name: &str,
    video: Option<(u32, u32, u32)>,
    audio: bool,
    recorder: &Recorder,
) -> Result<MediaOptions, ClientError> {
    let mut media = MediaOptions {
        on_video: Some(recorder.frame_callback()),
        on_audio: Some(recorder.audio_callback()),
        ..MediaOptions::default()
    };
    if audio {
        media.microphone = Some(Box::new(FakeMicrophone::new(
            fake_info(DeviceKind::Microphone, name),
            Box::new(ChirpTrain::new(&chirp_for(name))),
            Pacing::RealTime,
            Plug::new(),
        )));
    }
    if let Some((width, height, fps)) = video {
        let pattern =
            TestPattern::new(width, height, fps).map_err(|e| ClientError::Video(e.into()))?;
        media.camera = Some(Box::new(FakeCamera::new(
            fake_info(DeviceKind::Camera, name),
            CameraFormat { width, height, fps },
            Box::new(pattern),
            Pacing::RealTime,
            Plug::new(),
        )));
    }
    Ok(media)
}

/// A bot's microphone: its chirp's sweep, then as long a quiet 150 Hz hum
/// (below every chirp's band), over and over. The gap keeps matches apart
/// (back-to-back sweeps merge into one another in the detector's search);
/// the hum keeps the bot's audio level up, so the SFU counts it as
/// speaking rather than half silent.
#[derive(Debug, Clone)]
pub struct ChirpTrain {
    sweep: Vec<f32>,
    position: u64,
}

impl ChirpTrain {
    pub fn new(chirp: &Chirp) -> Self {
        Self {
            sweep: chirp.sweep(0.0),
            position: 0,
        }
    }

    /// Time from one sweep's start to the next's.
    pub fn interval() -> Duration {
        CHIRP_PERIOD * 2
    }
}

impl AudioSource for ChirpTrain {
    fn fill(&mut self, out: &mut [f32]) {
        let n = self.sweep.len() as u64;
        for s in out.iter_mut() {
            let at = self.position % (2 * n);
            *s = if at < n {
                self.sweep[at as usize]
            } else {
                HUM_AMPLITUDE * (TAU * HUM_HZ * self.position as f64 / 48_000.0).sin() as f32
            };
            self.position += 1;
        }
    }

    fn position(&self) -> u64 {
        self.position
    }
}

/// What was seen of one remote participant.
#[derive(Debug, Clone, Default)]
pub struct Track {
    pub frames_decoded: u64,
    pub stamps_in_order: u64,
    /// Stamps lower than one already shown.
    pub stamps_out_of_order: u64,
    /// The same stamp again: at a simulcast switch the SFU may forward one
    /// capture from both layers (the same picture, twice).
    pub stamps_repeated: u64,
    /// Jumps of more than one frame number.
    pub stamp_gaps: u64,
    /// Frame numbers skipped over in those jumps.
    pub frames_missing: u64,
    pub unreadable_stamps: u64,
    pub freezes: u64,
    pub first_frame: Option<Instant>,
    pub last_frame: Option<Instant>,
    pub last_stamp: Option<u32>,
    audio: Vec<f32>,
}

impl Track {
    fn on_frame(&mut self, frame: &VideoFrame, now: Instant) {
        self.frames_decoded += 1;
        if let Some(last) = self.last_frame
            && now.duration_since(last) > FREEZE
        {
            self.freezes += 1;
        }
        self.first_frame.get_or_insert(now);
        self.last_frame = Some(now);
        let Some(stamp) = read_stamp(frame) else {
            self.unreadable_stamps += 1;
            return;
        };
        let n = stamp.frame_number;
        match self.last_stamp {
            Some(last) if n == last => self.stamps_repeated += 1,
            Some(last) if n < last => self.stamps_out_of_order += 1,
            Some(last) => {
                self.stamps_in_order += 1;
                if n > last + 1 {
                    self.stamp_gaps += 1;
                    self.frames_missing += u64::from(n - last - 1);
                }
                self.last_stamp = Some(n);
            }
            None => {
                self.stamps_in_order += 1;
                self.last_stamp = Some(n);
            }
        }
    }

    fn on_audio(&mut self, samples: &[f32]) {
        self.audio.extend_from_slice(samples);
        if self.audio.len() > AUDIO_KEEP * 2 {
            let cut = self.audio.len() - AUDIO_KEEP;
            self.audio.drain(..cut);
        }
    }

    /// Chirps of `chirp` found in the last two seconds of audio.
    pub fn chirps(&self, chirp: &Chirp) -> usize {
        let start = self.audio.len().saturating_sub(AUDIO_KEEP);
        ChirpDetector::new(chirp, CHIRP_THRESHOLD)
            .find_all(&self.audio[start..])
            .len()
    }

    /// Seconds of audio the chirp count looked at.
    pub fn audio_analysed(&self) -> Duration {
        let n = self.audio.len().min(AUDIO_KEEP);
        Duration::from_secs_f64(n as f64 / 48_000.0)
    }
}

/// Collects [`Track`]s from a meeting's frame and audio callbacks.
#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<Mutex<HashMap<ParticipantId, Track>>>);

impl Recorder {
    pub fn lock(&self) -> MutexGuard<'_, HashMap<ParticipantId, Track>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The callback for [`crate::MediaOptions::on_video`].
    pub fn frame_callback(&self) -> FrameCallback {
        let me = self.clone();
        Arc::new(move |p, frame| {
            me.lock()
                .entry(p)
                .or_default()
                .on_frame(frame, Instant::now())
        })
    }

    /// The callback for [`crate::MediaOptions::on_audio`].
    pub fn audio_callback(&self) -> AudioCallback {
        let me = self.clone();
        Arc::new(move |p, samples| me.lock().entry(p).or_default().on_audio(samples))
    }

    pub fn track(&self, p: ParticipantId) -> Track {
        self.lock().get(&p).cloned().unwrap_or_default()
    }
}

/// One JSON line describing what a bot received from everyone.
pub fn summary(
    name: &str,
    id: Option<ParticipantId>,
    joined_at: Instant,
    names: &HashMap<ParticipantId, String>,
    recorder: &Recorder,
    stats: &HashMap<ParticipantId, ReceiveStats>,
    sent: SendStats,
) -> Value {
    let tracks = recorder.lock().clone();
    let mut remotes = Vec::new();
    let mut first_frame: Option<Instant> = None;
    let mut ids: Vec<ParticipantId> = tracks.keys().chain(stats.keys()).copied().collect();
    ids.sort_unstable();
    ids.dedup();
    for p in ids {
        let t = tracks.get(&p).cloned().unwrap_or_default();
        let s = stats.get(&p).copied().unwrap_or_default();
        let remote_name = names.get(&p).cloned();
        let chirps = remote_name.as_deref().map(|n| t.chirps(&chirp_for(n)));
        if let Some(f) = t.first_frame {
            first_frame = Some(first_frame.map_or(f, |x| x.min(f)));
        }
        let ms = |at: Option<Instant>| {
            at.map(|a| a.saturating_duration_since(joined_at).as_millis() as u64)
        };
        remotes.push(json!({
            "participant": p,
            "name": remote_name,
            "frames_received": s.video_frames,
            "frames_decoded": t.frames_decoded,
            "stamps_in_order": t.stamps_in_order,
            "stamps_out_of_order": t.stamps_out_of_order,
            "stamps_repeated": t.stamps_repeated,
            "stamp_gaps": t.stamp_gaps,
            "frames_missing": t.frames_missing,
            "unreadable_stamps": t.unreadable_stamps,
            "freezes": t.freezes,
            "keyframe_requests": s.keyframe_requests,
            "audio_packets": s.audio_packets,
            "audio_ms": s.audio_ms,
            "audio_fec_recovered": s.audio_fec,
            "audio_concealed": s.audio_concealed,
            "chirps_detected": chirps,
            "chirps_expected": (t.audio_analysed().as_millis() / ChirpTrain::interval().as_millis()) as u64,
            "join_to_first_frame_ms": ms(t.first_frame),
            "packet_loss": s.loss,
        }));
    }
    json!({
        "bot": name,
        "participant": id,
        "join_to_first_frame_ms": first_frame.map(|f| f.saturating_duration_since(joined_at).as_millis() as u64),
        "sent": {
            "frames_captured": sent.frames_captured,
            "frames_skipped": sent.frames_skipped,
            "frames_offered": sent.frames_offered,
            "frames_encoded": sent.frames_encoded,
            "audio_packets": sent.audio_packets,
        },
        "remotes": remotes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_media::synth::video::TestPattern;

    #[test]
    fn names_get_chirps_that_the_detector_tells_apart() {
        let names = ["bot-0", "bot-1", "bot-2", "bot-3"];
        let ks: std::collections::HashSet<String> = names
            .iter()
            .map(|n| format!("{:?}", chirp_for(n).sweep(0.0)[..50].to_vec()))
            .collect();
        assert!(ks.len() >= 3, "most names get their own chirp");
        for a in names {
            let mut audio = vec![0.0f32; 48_000];
            ChirpTrain::new(&chirp_for(a)).fill(&mut audio);
            let mut track = Track::default();
            track.on_audio(&audio);
            assert_eq!(
                track.chirps(&chirp_for(a)),
                10,
                "{a} finds each of its sweeps"
            );
            for b in names {
                let (ca, cb) = (chirp_for(a).sweep(0.0), chirp_for(b).sweep(0.0));
                if ca != cb {
                    assert_eq!(
                        track.chirps(&chirp_for(b)),
                        0,
                        "{b}'s chirp is not in {a}'s audio"
                    );
                }
            }
        }
    }

    #[test]
    fn chirps_survive_opus_at_the_clients_settings() {
        use confab_media::audio::opus::{
            Encoded, EncoderConfig, MAX_PACKET_BYTES, OPUS_FRAME_SAMPLES, OpusDecoder, OpusEncoder,
        };
        for name in ["bot-0", "bot-1", "bot-2", "Ana"] {
            let mut source = ChirpTrain::new(&chirp_for(name));
            let mut enc = OpusEncoder::new(EncoderConfig::default()).unwrap();
            let mut dec = OpusDecoder::new().unwrap();
            let (mut pcm, mut packet) = (vec![0.0; OPUS_FRAME_SAMPLES], vec![0; MAX_PACKET_BYTES]);
            let mut track = Track::default();
            for _ in 0..100 {
                source.fill(&mut pcm);
                let out = match enc.encode(&pcm, &mut packet).unwrap() {
                    Encoded::Packet(n) => {
                        dec.decode(&packet[..n], &mut pcm).unwrap();
                        pcm.clone()
                    }
                    Encoded::Silence => vec![0.0; OPUS_FRAME_SAMPLES],
                };
                track.on_audio(&out);
            }
            let found = track.chirps(&chirp_for(name));
            assert!(found >= 18, "{name}: {found} of 20 sweeps found after Opus");
        }
    }

    #[test]
    fn stamps_count_order_gaps_and_freezes() {
        let mut pattern = TestPattern::new(320, 180, 15).unwrap();
        let mut frames: Vec<VideoFrame> = (0..6).map(|_| pattern.next_frame()).collect();
        frames.swap(3, 4); // 0 1 2 4 3 5
        frames[5] = frames[3].clone(); // 0 1 2 4 3 4
        let t0 = Instant::now();
        let mut track = Track::default();
        for (i, f) in frames.iter().enumerate() {
            let pause = if i >= 4 { 900 } else { 0 };
            track.on_frame(f, t0 + Duration::from_millis(66 * i as u64 + pause));
        }
        assert_eq!(track.frames_decoded, 6);
        assert_eq!((track.stamps_in_order, track.stamps_out_of_order), (4, 1));
        assert_eq!(track.stamps_repeated, 1);
        assert_eq!((track.stamp_gaps, track.frames_missing), (1, 1));
        assert_eq!(track.freezes, 1);
    }
}
