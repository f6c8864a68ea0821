//! cpal against real, clocked devices: a private PulseAudio server with a
//! null source and sink (see support/pulse.rs).

mod support;

use std::f32::consts::TAU;
use std::time::{Duration, Instant};

use confab_devices::cpal_audio::CpalAudio;
use confab_devices::{AudioFrame, DeviceKind, Microphone, RecvError, SAMPLE_RATE, Speaker};
use support::pulse::run_with_pulse;

#[test]
fn default_microphone_delivers_one_second_of_audio_per_second() {
    run_with_pulse(
        "default_microphone_delivers_one_second_of_audio_per_second",
        || {
            let audio = CpalAudio::new();
            let mics = audio.devices(DeviceKind::Microphone).unwrap();
            assert!(mics.iter().any(|m| m.is_default), "no default in {mics:?}");
            let mut mic = audio.open_microphone(None).unwrap();
            println!("microphone {:?}", mic);
            let rx = mic.start().unwrap();
            // The first frames arrive in a burst while the stream fills; count
            // from after a short settling time.
            rx.recv_timeout(Duration::from_secs(5)).unwrap();
            let settle = Instant::now() + Duration::from_millis(200);
            while Instant::now() < settle {
                let _ = rx.recv_timeout(Duration::from_millis(50));
            }
            while rx.try_recv().is_ok() {}
            let (start, mut samples, mut last_ts) = (Instant::now(), 0usize, None);
            while start.elapsed() < Duration::from_secs(1) {
                match rx.recv_timeout(Duration::from_millis(100)) {
                    Ok(frame) => {
                        assert_eq!(frame.samples.len(), 480);
                        if let Some(prev) = last_ts {
                            assert!(frame.timestamp > prev);
                        }
                        last_ts = Some(frame.timestamp);
                        samples += frame.samples.len();
                    }
                    Err(RecvError::Timeout) => {}
                    Err(e) => panic!("capture ended: {e}"),
                }
            }
            println!("{samples} samples in 1 s, {} dropped frames", rx.dropped());
            assert!(
                (43_200..=52_800).contains(&samples),
                "{samples} samples in one second"
            );
            mic.stop();
            // Frames queued before the stop come first, then the end.
            let end = std::iter::repeat_with(|| rx.recv_timeout(Duration::from_secs(1)))
                .find(Result::is_err);
            assert_eq!(end, Some(Err(RecvError::Stopped)));
        },
    );
}

#[test]
fn default_speaker_plays_a_second_of_sine_and_accounts_for_every_sample() {
    run_with_pulse(
        "default_speaker_plays_a_second_of_sine_and_accounts_for_every_sample",
        || {
            let audio = CpalAudio::new();
            let speaker = audio.open_speaker(None).unwrap();
            println!("speaker {speaker:?}");
            let mut speaker: Box<dyn Speaker> = Box::new(speaker);
            speaker.start().unwrap();
            // PulseAudio's output takes one buffer, then stalls for about a
            // second before it pulls steadily; feed silence through that, so the
            // test measures playback rather than the stall (which the queue
            // limit trims, oldest first).
            let mut given = 0u64;
            let mut feeder = RealTimeFeeder::new();
            while speaker.stats().played < 2 * 48_000 / 10 {
                assert!(
                    feeder.elapsed() < Duration::from_secs(10),
                    "the speaker never started"
                );
                given += feeder.feed(&mut *speaker, |_| 0.0);
            }
            for _ in 0..100 {
                given += feeder.feed(&mut *speaker, |n| {
                    (TAU * 440.0 * n as f32 / SAMPLE_RATE as f32).sin() * 0.3
                });
            }
            // Wait for the queue to drain: every sample is then either played
            // or counted as dropped, and the silence after it as underruns.
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut stats = speaker.stats();
            while stats.played + stats.overflowed < given || stats.underruns == 0 {
                assert!(
                    Instant::now() < deadline,
                    "playback stalled: {stats:?} of {given}"
                );
                std::thread::sleep(Duration::from_millis(50));
                stats = speaker.stats();
            }
            println!("{stats:?} of {given} samples given");
            assert_eq!(stats.played + stats.overflowed, given, "{stats:?}");
            // Only priming silence may have been trimmed: the sine all played.
            assert!(stats.played >= 48_000, "{stats:?}");
            // Still healthy after starving.
            let silence = AudioFrame {
                samples: vec![0.0; 480],
                timestamp: Duration::from_secs(1),
            };
            speaker.play(&silence).unwrap();
            speaker.stop();
        },
    );
}

/// Plays 10 ms frames at real-time pace, as the mixer will.
struct RealTimeFeeder {
    start: Instant,
    frames: u64,
}

impl RealTimeFeeder {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            frames: 0,
        }
    }

    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Plays one frame whose sample `n` (counted from this feeder's start)
    /// is `wave(n)`; returns the samples given.
    fn feed(&mut self, speaker: &mut dyn Speaker, wave: impl Fn(u64) -> f32) -> u64 {
        let first = self.frames * 480;
        let samples = (first..first + 480).map(wave).collect();
        let timestamp = Duration::from_millis(self.frames * 10);
        speaker.play(&AudioFrame { samples, timestamp }).unwrap();
        self.frames += 1;
        let due = self.start + timestamp + Duration::from_millis(10);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        480
    }
}
