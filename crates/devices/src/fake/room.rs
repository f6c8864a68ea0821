//! A speakerphone in a room: what its speaker plays reaches its microphone
//! later and quieter, the way a laptop or a conference phone hears itself.
//! It is the echo an echo canceller has to remove, so end-to-end tests can
//! check that a meeting client feeds its canceller the right reference.
//!
//! The room keeps one clock (48 kHz samples since it was made). The speaker
//! queues what it is given the way `CpalSpeaker` does: right after what it
//! already queued, or, when the queue had run dry, from now, so every
//! underrun puts the sound later by the silence played meanwhile. Queued
//! audio leaves the loudspeaker [`SPEAKER_BUFFER`] after it leaves the
//! queue (the sound card's own latency). The microphone hears, at each
//! instant, what left the loudspeaker [`Acoustics::delay`] earlier, times
//! [`Acoustics::gain`], plus a little noise. So the echo lags the audio
//! handed to the speaker by `SPEAKER_BUFFER + delay`, and by more after the
//! speaker has starved, as with real hardware.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confab_media::synth::audio::WhiteNoise;

use super::{FakeMicrophone, FakeSpeaker, Pacing, Plug, Recording, lock};
use crate::source::AudioSource;
use crate::{
    AudioFrame, DeviceError, DeviceInfo, FrameReceiver, Microphone, PlaybackStats, SAMPLE_RATE,
    Speaker,
};

/// From leaving the speaker's queue to leaving the loudspeaker: the sound
/// card's buffering, part of every echo's delay.
pub const SPEAKER_BUFFER: Duration = Duration::from_millis(40);

/// Speaker output the room remembers; the delay must stay below it.
const MEMORY: Duration = Duration::from_secs(2);

/// How the room carries sound from the speaker to the microphone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Acoustics {
    /// Travel time from speaker to microphone (a few ms across a desk;
    /// tens of ms with reflections and the devices' own buffering).
    pub delay: Duration,
    /// Amplitude of the echo relative to what the speaker plays.
    pub gain: f32,
    /// Peak amplitude of white noise the microphone adds (the room's hum).
    pub noise: f32,
}

fn samples(d: Duration) -> u64 {
    (d.as_nanos() * u128::from(SAMPLE_RATE) / 1_000_000_000) as u64
}

/// The sound in the room on the room's clock, without any clock of its own
/// so it can be tested on virtual time.
#[derive(Debug)]
struct Air {
    acoustics: Acoustics,
    /// From leaving the queue to reaching the microphone.
    delay: u64,
    /// Audio by the sample it leaves the queue at, modulo the length.
    ring: Vec<f32>,
    /// Where the speaker's queued audio ends; `None` until it first plays.
    queued_to: Option<u64>,
    /// Times the speaker ran dry after it had begun.
    underruns: u64,
    noise: WhiteNoise,
}

impl Air {
    fn new(acoustics: Acoustics) -> Self {
        let delay = samples(acoustics.delay + SPEAKER_BUFFER);
        let memory = samples(MEMORY);
        assert!(delay < memory, "a room delay under {MEMORY:?}");
        Self {
            acoustics,
            delay,
            ring: vec![0.0; memory as usize],
            queued_to: None,
            underruns: 0,
            noise: WhiteNoise::new(0x9e37_79b9_7f4a_7c15),
        }
    }

    fn slot(&self, index: u64) -> usize {
        (index % self.ring.len() as u64) as usize
    }

    /// The speaker is handed `played` at `now`.
    fn play(&mut self, now: u64, played: &[f32]) {
        let start = match self.queued_to {
            Some(end) if end >= now => end,
            dry => {
                self.underruns += u64::from(dry.is_some());
                // The ring still holds what was played a while ago where
                // the speaker was silent; that must not be heard again.
                let from = dry
                    .unwrap_or(0)
                    .max(now.saturating_sub(self.ring.len() as u64));
                for i in from..now {
                    let slot = self.slot(i);
                    self.ring[slot] = 0.0;
                }
                now
            }
        };
        for (i, s) in played.iter().enumerate() {
            let slot = self.slot(start + i as u64);
            self.ring[slot] = *s;
        }
        self.queued_to = Some(start + played.len() as u64);
    }

    /// What the microphone picks up from sample `at` on.
    fn hear(&mut self, at: u64, out: &mut [f32]) {
        let memory = self.ring.len() as u64;
        for (i, o) in out.iter_mut().enumerate() {
            let source = (at + i as u64).checked_sub(self.delay);
            let echo = match (source, self.queued_to) {
                (Some(s), Some(end)) if s < end && s + memory >= end => self.ring[self.slot(s)],
                _ => 0.0,
            };
            *o = self.acoustics.gain * echo + self.acoustics.noise * self.noise.next_sample();
        }
    }
}

/// A room with one speaker and one microphone in it.
#[derive(Debug, Clone)]
pub struct Room {
    air: Arc<Mutex<Air>>,
    origin: Instant,
}

impl Room {
    pub fn new(acoustics: Acoustics) -> Self {
        Self {
            air: Arc::new(Mutex::new(Air::new(acoustics))),
            origin: Instant::now(),
        }
    }

    fn now(&self) -> u64 {
        samples(self.origin.elapsed())
    }

    /// Times the speaker's queue ran dry after it had begun playing; each
    /// one moves the echo later, which the canceller has to follow.
    pub fn underruns(&self) -> u64 {
        lock(&self.air).underruns
    }

    /// The room's speaker; it also records what it plays into `recording`.
    pub fn speaker(&self, info: DeviceInfo, recording: Recording) -> RoomSpeaker {
        RoomSpeaker {
            inner: FakeSpeaker::new(info, Plug::new(), recording),
            room: self.clone(),
            started: false,
        }
    }

    /// The room's microphone, delivering in real time.
    pub fn microphone(&self, info: DeviceInfo) -> RoomMicrophone {
        let anchor = Arc::new(Mutex::new(None));
        let leak = Leak {
            room: self.clone(),
            anchor: Arc::clone(&anchor),
            position: 0,
        };
        RoomMicrophone {
            inner: FakeMicrophone::new(info, Box::new(leak), Pacing::RealTime, Plug::new()),
            anchor,
        }
    }
}

/// A speaker whose sound goes into its [`Room`].
#[derive(Debug)]
pub struct RoomSpeaker {
    inner: FakeSpeaker,
    room: Room,
    started: bool,
}

impl Speaker for RoomSpeaker {
    fn info(&self) -> &DeviceInfo {
        self.inner.info()
    }

    fn start(&mut self) -> Result<(), DeviceError> {
        self.inner.start()?;
        self.started = true;
        Ok(())
    }

    fn play(&mut self, frame: &AudioFrame) -> Result<(), DeviceError> {
        self.inner.play(frame)?;
        if self.started {
            let now = self.room.now();
            lock(&self.room.air).play(now, &frame.samples);
        }
        Ok(())
    }

    fn stop(&mut self) {
        self.started = false;
        self.inner.stop();
    }

    fn stats(&self) -> PlaybackStats {
        self.inner.stats()
    }
}

/// A microphone hearing its [`Room`].
#[derive(Debug)]
pub struct RoomMicrophone {
    inner: FakeMicrophone,
    anchor: Arc<Mutex<Option<(u64, u64)>>>,
}

impl Microphone for RoomMicrophone {
    fn info(&self) -> &DeviceInfo {
        self.inner.info()
    }

    fn start(&mut self) -> Result<FrameReceiver<AudioFrame>, DeviceError> {
        // A restarted capture counts its frames from zero again.
        *lock(&self.anchor) = None;
        self.inner.start()
    }

    fn stop(&mut self) {
        self.inner.stop();
    }
}

/// The microphone's source: the room, read at the microphone's clock.
struct Leak {
    room: Room,
    /// (room sample, own position) of the first frame since the start.
    anchor: Arc<Mutex<Option<(u64, u64)>>>,
    position: u64,
}

impl AudioSource for Leak {
    fn fill(&mut self, out: &mut [f32]) {
        let len = out.len() as u64;
        let (room_at, position_at) = *lock(&self.anchor)
            // The capture thread asks for a frame once it has passed, so the
            // first one ended about now (late by the thread's wake-up).
            .get_or_insert_with(|| (self.room.now().saturating_sub(len), self.position));
        let at = room_at + (self.position - position_at);
        lock(&self.room.air).hear(at, out);
        self.position += len;
    }

    fn position(&self) -> u64 {
        self.position
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DeviceId, DeviceKind, SAMPLES_PER_10MS};

    const ROOM: Acoustics = Acoustics {
        delay: Duration::from_millis(80),
        gain: 0.4,
        noise: 0.0,
    };

    /// Index and value of the loudest sample.
    fn peak(x: &[f32]) -> (usize, f32) {
        x.iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .unwrap()
    }

    #[test]
    fn the_echo_arrives_after_the_speakers_buffer_and_the_delay_at_the_gain() {
        let mut air = Air::new(ROOM);
        let mut click = vec![0.0; 960];
        click[100] = 1.0;
        air.play(1000, &click);
        let mut heard = vec![0.0; 48_000];
        air.hear(0, &mut heard);
        let (at, level) = peak(&heard);
        assert_eq!(at, 1000 + 1920 + 100 + 3840, "buffer 40 ms + delay 80 ms");
        assert!((level - 0.4).abs() < 1e-6, "{level}");
        assert_eq!(heard.iter().filter(|s| **s != 0.0).count(), 1);
    }

    #[test]
    fn a_speaker_that_ran_dry_plays_on_from_now_and_old_sound_is_not_heard_again() {
        let mut air = Air::new(ROOM);
        air.play(0, &vec![0.5; 960]);
        // Long after, past the room's memory: the ring's old samples sit
        // where the restart's gap is.
        let later = samples(MEMORY) * 3 / 2;
        let mut click = vec![0.0; 960];
        click[0] = 1.0;
        air.play(later, &click);
        let mut heard = vec![0.0; 48_000];
        air.hear(later, &mut heard);
        let (at, level) = peak(&heard);
        assert_eq!(at, 1920 + 3840);
        assert!((level - 0.4).abs() < 1e-6, "{level}");
        assert_eq!(heard.iter().filter(|s| **s != 0.0).count(), 1);
    }

    #[test]
    fn noise_is_added_at_the_level_asked_for() {
        let mut air = Air::new(Acoustics {
            noise: 0.01,
            ..ROOM
        });
        let mut heard = vec![0.0; 48_000];
        air.hear(0, &mut heard);
        let rms = (heard.iter().map(|s| s * s).sum::<f32>() / heard.len() as f32).sqrt();
        // Uniform in ±0.01: RMS 0.01/√3.
        assert!((rms - 0.01 / 3f32.sqrt()).abs() < 0.0005, "{rms}");
    }

    fn info(kind: DeviceKind) -> DeviceInfo {
        DeviceInfo {
            id: DeviceId(format!("room-{kind}")),
            name: format!("Room {kind}"),
            kind,
            is_default: true,
        }
    }

    /// The devices on the wall clock: a click handed to the speaker comes
    /// out of the microphone after about the buffer and the delay.
    #[test]
    fn the_devices_in_real_time_hear_the_speaker_with_the_delay_and_gain() {
        let room = Room::new(ROOM);
        let mut speaker = room.speaker(info(DeviceKind::Speaker), Recording::default());
        let mut mic = room.microphone(info(DeviceKind::Microphone));
        let frames = mic.start().unwrap();
        speaker.start().unwrap();
        let mut click = vec![0.0; SAMPLES_PER_10MS];
        click[0] = 1.0;
        // Drain a little first so the microphone's clock is anchored.
        let first = frames.recv_timeout(Duration::from_secs(1)).unwrap();
        let mut heard = first.samples;
        let handed = heard.len();
        speaker
            .play(&AudioFrame {
                samples: click,
                timestamp: Duration::ZERO,
            })
            .unwrap();
        while heard.len() < 48_000 / 2 {
            heard.extend(frames.recv_timeout(Duration::from_secs(1)).unwrap().samples);
        }
        mic.stop();
        let (at, level) = peak(&heard);
        let lag = Duration::from_secs_f64((at - handed) as f64 / 48_000.0);
        let expected = SPEAKER_BUFFER + ROOM.delay;
        // The first frame may be fetched late, and the click handed over
        // a little after it: a few ms either way on a busy machine.
        assert!(
            lag.abs_diff(expected) < Duration::from_millis(15),
            "lag {lag:?}, expected {expected:?}"
        );
        assert!((level - 0.4).abs() < 1e-6, "{level}");
    }
}
