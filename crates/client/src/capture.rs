//! The send side: microphone → (audio processing) → Opus, and camera →
//! simulcast VP8, each on its own thread so encoding never stalls the
//! networking task. Encoded media goes to the driver over a bounded
//! channel; when the driver is busy (reconnecting) packets are dropped,
//! never queued without bound.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use confab_devices::{Camera, Microphone, RecvError, SAMPLES_PER_10MS};
use confab_media::audio::mixer::audio_level;
use confab_media::audio::opus::{
    Encoded, EncoderConfig, MAX_PACKET_BYTES, OPUS_FRAME_SAMPLES, OpusEncoder,
};
use confab_media::audio::processing::{AudioProcessor, ProcessingConfig};
use confab_media::video::{Layer, SimulcastConfig, SimulcastEncoder, SimulcastOutput};
use tokio::sync::mpsc;

use crate::error::ClientError;

/// How long a capture thread waits for a frame before checking whether to stop.
const POLL: Duration = Duration::from_millis(50);

/// Encoded media for the driver to send.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// 20 ms of Opus; `samples` is the RTP timestamp (48 kHz ticks).
    Audio {
        samples: u64,
        payload: Vec<u8>,
        /// RFC 6464 level, 0 (loud) to 127 (silence).
        level: u8,
    },
    Video {
        layer: Layer,
        capture: Duration,
        data: Vec<u8>,
    },
    /// A device or codec failed; the pipeline stopped.
    Failed(String),
}

/// What the send pipelines did, for diagnostics: a frame number missing
/// at a receiver was either skipped here or lost on the way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendStats {
    /// Pictures taken from the camera.
    pub frames_captured: u64,
    /// Pictures the camera queue dropped because encoding fell behind.
    pub frames_skipped: u64,
    /// Pictures given to each running layer (indexed by `Layer`).
    pub frames_offered: [u64; 3],
    /// Frames each layer encoded: fewer than offered when the layer runs
    /// below the camera's rate or libvpx dropped one to hold its bitrate.
    pub frames_encoded: [u64; 3],
    pub audio_packets: u64,
}

/// What the driver tells the video thread.
#[derive(Debug)]
pub(crate) struct VideoControl {
    /// Layers somebody receives (indexed by [`Layer`]); others are paused.
    pub(crate) wanted: [bool; 3],
    pub(crate) keyframes: [bool; 3],
}

impl Default for VideoControl {
    fn default() -> Self {
        // Until `send_layers` says otherwise only the lowest layer is sent.
        let mut wanted = [false; 3];
        wanted[Layer::Quarter as usize] = true;
        Self {
            wanted,
            keyframes: [false; 3],
        }
    }
}

/// Running capture threads; stops them when dropped.
#[derive(Debug)]
pub(crate) struct Capture {
    stop: Arc<AtomicBool>,
    pub(crate) audio_muted: Arc<AtomicBool>,
    pub(crate) video_muted: Arc<AtomicBool>,
    pub(crate) video: Arc<Mutex<VideoControl>>,
    pub(crate) stats: Arc<Mutex<SendStats>>,
    threads: Vec<JoinHandle<()>>,
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Starts whatever devices are given. `far` carries what the speaker
/// plays (the echo canceller's reference) when processing is on.
pub(crate) fn start(
    microphone: Option<Box<dyn Microphone>>,
    processing: Option<ProcessingConfig>,
    far: std_mpsc::Receiver<Vec<f32>>,
    camera: Option<Box<dyn Camera>>,
    out: mpsc::Sender<Outgoing>,
    stats: Arc<Mutex<SendStats>>,
) -> std::io::Result<Capture> {
    let capture = Capture {
        stop: Arc::new(AtomicBool::new(false)),
        audio_muted: Arc::new(AtomicBool::new(false)),
        video_muted: Arc::new(AtomicBool::new(false)),
        video: Arc::new(Mutex::new(VideoControl::default())),
        stats,
        threads: Vec::new(),
    };
    let mut capture = capture;
    if let Some(mic) = microphone {
        let (stop, muted, out, stats) = (
            Arc::clone(&capture.stop),
            Arc::clone(&capture.audio_muted),
            out.clone(),
            Arc::clone(&capture.stats),
        );
        let t = std::thread::Builder::new()
            .name("confab audio send".into())
            .spawn(move || {
                if let Err(e) = audio_loop(mic, processing, &far, &out, &stop, &muted, &stats) {
                    let _ = out.try_send(Outgoing::Failed(e.to_string()));
                }
            })?;
        capture.threads.push(t);
    }
    if let Some(cam) = camera {
        let (stop, muted, control, stats) = (
            Arc::clone(&capture.stop),
            Arc::clone(&capture.video_muted),
            Arc::clone(&capture.video),
            Arc::clone(&capture.stats),
        );
        let t = std::thread::Builder::new()
            .name("confab video send".into())
            .spawn(move || {
                if let Err(e) = video_loop(cam, &control, &out, &stop, &muted, &stats) {
                    let _ = out.try_send(Outgoing::Failed(e.to_string()));
                }
            })?;
        capture.threads.push(t);
    }
    Ok(capture)
}

fn audio_loop(
    mut mic: Box<dyn Microphone>,
    processing: Option<ProcessingConfig>,
    far: &std_mpsc::Receiver<Vec<f32>>,
    out: &mpsc::Sender<Outgoing>,
    stop: &AtomicBool,
    muted: &AtomicBool,
    stats: &Mutex<SendStats>,
) -> Result<(), ClientError> {
    let frames = mic.start()?;
    let mut processor = processing.map(AudioProcessor::new);
    let mut encoder = OpusEncoder::new(EncoderConfig::default())?;
    let mut pcm: Vec<f32> = Vec::with_capacity(OPUS_FRAME_SAMPLES * 2);
    let mut packet = vec![0u8; MAX_PACKET_BYTES];
    // The RTP clock runs on through muted and silent (DTX) frames.
    let mut samples: u64 = 0;
    while !stop.load(Ordering::SeqCst) {
        let mut frame = match frames.recv_timeout(POLL) {
            Ok(frame) => frame,
            Err(RecvError::Timeout) => continue,
            Err(RecvError::Stopped) => break,
            Err(RecvError::Failed(e)) => return Err(e.into()),
        };
        if let Some(p) = &mut processor {
            while let Ok(played) = far.try_recv() {
                for chunk in played.chunks_exact(SAMPLES_PER_10MS) {
                    p.process_far(chunk)?;
                }
            }
            for chunk in frame.samples.chunks_exact_mut(SAMPLES_PER_10MS) {
                p.process_near(chunk)?;
            }
        }
        pcm.extend_from_slice(&frame.samples);
        while pcm.len() >= OPUS_FRAME_SAMPLES {
            let chunk: Vec<f32> = pcm.drain(..OPUS_FRAME_SAMPLES).collect();
            let at = samples;
            samples += OPUS_FRAME_SAMPLES as u64;
            if muted.load(Ordering::Relaxed) {
                continue;
            }
            let level = audio_level(&chunk);
            match encoder.encode(&chunk, &mut packet)? {
                Encoded::Packet(len) => {
                    lock(stats).audio_packets += 1;
                    let _ = out.try_send(Outgoing::Audio {
                        samples: at,
                        payload: packet[..len].to_vec(),
                        level,
                    });
                }
                Encoded::Silence => {}
            }
        }
    }
    mic.stop();
    Ok(())
}

fn video_loop(
    mut cam: Box<dyn Camera>,
    control: &Mutex<VideoControl>,
    out: &mpsc::Sender<Outgoing>,
    stop: &AtomicBool,
    muted: &AtomicBool,
    stats: &Mutex<SendStats>,
) -> Result<(), ClientError> {
    let frames = cam.start()?;
    let format = cam.format();
    let mut encoder: Option<SimulcastEncoder> = None;
    let mut encoded = SimulcastOutput::default();
    while !stop.load(Ordering::SeqCst) {
        let frame = match frames.recv_timeout(POLL) {
            Ok(frame) => frame,
            Err(RecvError::Timeout) => continue,
            Err(RecvError::Stopped) => break,
            Err(RecvError::Failed(e)) => return Err(e.into()),
        };
        {
            let mut s = lock(stats);
            s.frames_captured += 1;
            s.frames_skipped = frames.dropped();
        }
        let size = (frame.width(), frame.height());
        let stale = encoder
            .as_ref()
            .is_none_or(|e| (e.config().width, e.config().height) != size);
        if stale {
            // A camera may deliver another size than asked; follow it.
            let mut config = SimulcastConfig::new(size.0, size.1);
            for layer in &mut config.layers {
                layer.max_fps = layer.max_fps.min(format.fps.max(1));
            }
            let mut fresh = SimulcastEncoder::new(config)?;
            for layer in Layer::ALL {
                fresh.pause(layer);
            }
            encoder = Some(fresh);
        }
        let Some(enc) = encoder.as_mut() else {
            continue;
        };
        let running = apply_control(enc, control);
        if !running.contains(&true) || muted.load(Ordering::Relaxed) {
            continue;
        }
        enc.encode(&frame, &mut encoded)?;
        let mut s = lock(stats);
        for (i, _) in running.iter().enumerate().filter(|(_, r)| **r) {
            s.frames_offered[i] += 1;
        }
        for (layer, _) in encoded.iter() {
            s.frames_encoded[layer as usize] += 1;
        }
        drop(s);
        for (layer, f) in encoded.iter() {
            let _ = out.try_send(Outgoing::Video {
                layer,
                capture: f.timestamp,
                data: f.data.clone(),
            });
        }
    }
    cam.stop();
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Pauses and resumes layers as wanted and passes keyframe requests on;
/// returns which layers run.
fn apply_control(enc: &mut SimulcastEncoder, control: &Mutex<VideoControl>) -> [bool; 3] {
    let mut c = lock(control);
    let mut running = [false; 3];
    for layer in Layer::ALL {
        let i = layer as usize;
        if c.wanted[i] {
            enc.resume(layer);
            running[i] = true;
        } else {
            enc.pause(layer);
        }
        if std::mem::take(&mut c.keyframes[i]) {
            enc.request_keyframe(layer);
        }
    }
    running
}
