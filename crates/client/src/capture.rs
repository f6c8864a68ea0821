//! The send side: microphone → (audio processing) → Opus, and camera →
//! simulcast VP8, each on its own thread so encoding never stalls the
//! networking task. Encoded media goes to the driver over a bounded
//! channel; when the driver is busy (reconnecting) packets are dropped,
//! never queued without bound.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use confab_devices::{
    AudioFrame, Camera, DeviceThread, FrameReceiver, Microphone, RecvError, SAMPLES_PER_10MS,
    VideoFrame,
};
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

/// Called with every picture the camera delivers (the self view), shared
/// with the encoder rather than copied.
pub type LocalVideoCallback = Arc<dyn Fn(Arc<VideoFrame>) + Send + Sync>;

/// Running capture threads; stops them when dropped. The camera and the
/// microphone can each be replaced (or removed) while the meeting runs.
pub(crate) struct Capture {
    pub(crate) audio_muted: Arc<AtomicBool>,
    pub(crate) video_muted: Arc<AtomicBool>,
    pub(crate) video: Arc<Mutex<VideoControl>>,
    pub(crate) stats: Arc<Mutex<SendStats>>,
    out: mpsc::Sender<Outgoing>,
    processing: Option<ProcessingConfig>,
    far: Arc<Mutex<std_mpsc::Receiver<Vec<f32>>>>,
    /// RTP clocks that run on across device swaps, so receivers never see
    /// time go backwards: audio in 48 kHz samples, video as the last
    /// capture time sent.
    audio_clock: Arc<AtomicU64>,
    video_clock: Arc<Mutex<Duration>>,
    on_local: Option<LocalVideoCallback>,
    microphone: Option<DeviceThread>,
    camera: Option<DeviceThread>,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("microphone", &self.microphone.is_some())
            .field("camera", &self.camera.is_some())
            .finish_non_exhaustive()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        for worker in [self.microphone.take(), self.camera.take()]
            .into_iter()
            .flatten()
        {
            worker.stop();
        }
    }
}

/// The devices and sinks the capture side starts with.
pub(crate) struct CaptureSetup {
    pub(crate) microphone: Option<Box<dyn Microphone>>,
    pub(crate) processing: Option<ProcessingConfig>,
    /// What the speaker plays (the echo canceller's reference).
    pub(crate) far: std_mpsc::Receiver<Vec<f32>>,
    pub(crate) camera: Option<Box<dyn Camera>>,
    pub(crate) on_local: Option<LocalVideoCallback>,
}

/// Starts whatever devices are given.
pub(crate) fn start(
    setup: CaptureSetup,
    out: mpsc::Sender<Outgoing>,
    stats: Arc<Mutex<SendStats>>,
) -> Result<Capture, ClientError> {
    let mut capture = Capture {
        audio_muted: Arc::new(AtomicBool::new(false)),
        video_muted: Arc::new(AtomicBool::new(false)),
        video: Arc::new(Mutex::new(VideoControl::default())),
        stats,
        out,
        processing: setup.processing,
        far: Arc::new(Mutex::new(setup.far)),
        audio_clock: Arc::new(AtomicU64::new(0)),
        video_clock: Arc::new(Mutex::new(Duration::ZERO)),
        on_local: setup.on_local,
        microphone: None,
        camera: None,
    };
    capture.set_microphone(setup.microphone)?;
    capture.set_camera(setup.camera)?;
    Ok(capture)
}

impl Capture {
    /// Replaces the microphone (`None`: capture none). The old one is
    /// stopped first; the new one is started here, so its failure is
    /// this call's error. Blocks up to about [`POLL`].
    pub(crate) fn set_microphone(
        &mut self,
        microphone: Option<Box<dyn Microphone>>,
    ) -> Result<(), ClientError> {
        if let Some(old) = self.microphone.take() {
            old.stop();
        }
        let Some(mut mic) = microphone else {
            return Ok(());
        };
        let frames = mic.start()?;
        let audio = AudioLoop {
            processing: self.processing,
            far: Arc::clone(&self.far),
            out: self.out.clone(),
            muted: Arc::clone(&self.audio_muted),
            stats: Arc::clone(&self.stats),
            clock: Arc::clone(&self.audio_clock),
        };
        let thread = DeviceThread::spawn("confab audio send", move |stop| {
            let out = audio.out.clone();
            if let Err(e) = audio.run(&frames, &stop) {
                let _ = out.try_send(Outgoing::Failed(e.to_string()));
            }
            mic.stop();
        })?;
        self.microphone = Some(thread);
        Ok(())
    }

    /// Replaces the camera (`None`: send no video). Like
    /// [`Capture::set_microphone`]; the new camera's first frame is a
    /// keyframe, so receivers switch at once.
    pub(crate) fn set_camera(
        &mut self,
        camera: Option<Box<dyn Camera>>,
    ) -> Result<(), ClientError> {
        if let Some(old) = self.camera.take() {
            old.stop();
        }
        let Some(mut cam) = camera else {
            return Ok(());
        };
        let frames = cam.start()?;
        let video = VideoLoop {
            fps: cam.format().fps,
            control: Arc::clone(&self.video),
            out: self.out.clone(),
            muted: Arc::clone(&self.video_muted),
            stats: Arc::clone(&self.stats),
            clock: Arc::clone(&self.video_clock),
            on_local: self.on_local.clone(),
        };
        let thread = DeviceThread::spawn("confab video send", move |stop| {
            let out = video.out.clone();
            if let Err(e) = video.run(&frames, &stop) {
                let _ = out.try_send(Outgoing::Failed(e.to_string()));
            }
            cam.stop();
        })?;
        self.camera = Some(thread);
        Ok(())
    }
}

struct AudioLoop {
    processing: Option<ProcessingConfig>,
    far: Arc<Mutex<std_mpsc::Receiver<Vec<f32>>>>,
    out: mpsc::Sender<Outgoing>,
    muted: Arc<AtomicBool>,
    stats: Arc<Mutex<SendStats>>,
    clock: Arc<AtomicU64>,
}

impl AudioLoop {
    fn run(self, frames: &FrameReceiver<AudioFrame>, stop: &AtomicBool) -> Result<(), ClientError> {
        let mut processor = self.processing.map(AudioProcessor::new);
        let mut encoder = OpusEncoder::new(EncoderConfig::default())?;
        let mut pcm: Vec<f32> = Vec::with_capacity(OPUS_FRAME_SAMPLES * 2);
        let mut packet = vec![0u8; MAX_PACKET_BYTES];
        while !stop.load(Ordering::SeqCst) {
            let mut frame = match frames.recv_timeout(POLL) {
                Ok(frame) => frame,
                Err(RecvError::Timeout) => continue,
                Err(RecvError::Stopped) => break,
                Err(RecvError::Failed(e)) => return Err(e.into()),
            };
            if let Some(p) = &mut processor {
                while let Ok(played) = lock(&self.far).try_recv() {
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
                // The RTP clock runs on through muted and silent (DTX) frames.
                let at = self
                    .clock
                    .fetch_add(OPUS_FRAME_SAMPLES as u64, Ordering::Relaxed);
                if self.muted.load(Ordering::Relaxed) {
                    continue;
                }
                let level = audio_level(&chunk);
                match encoder.encode(&chunk, &mut packet)? {
                    Encoded::Packet(len) => {
                        lock(&self.stats).audio_packets += 1;
                        let _ = self.out.try_send(Outgoing::Audio {
                            samples: at,
                            payload: packet[..len].to_vec(),
                            level,
                        });
                    }
                    Encoded::Silence => {}
                }
            }
        }
        Ok(())
    }
}

struct VideoLoop {
    fps: u32,
    control: Arc<Mutex<VideoControl>>,
    out: mpsc::Sender<Outgoing>,
    muted: Arc<AtomicBool>,
    stats: Arc<Mutex<SendStats>>,
    clock: Arc<Mutex<Duration>>,
    on_local: Option<LocalVideoCallback>,
}

impl VideoLoop {
    fn run(self, frames: &FrameReceiver<VideoFrame>, stop: &AtomicBool) -> Result<(), ClientError> {
        let mut encoder: Option<SimulcastEncoder> = None;
        let mut encoded = SimulcastOutput::default();
        // Maps this camera's timestamps onto the meeting's video clock: a
        // replacement camera starting again at zero continues after the
        // last frame the previous one sent.
        let mut offset: Option<Duration> = None;
        let gap = Duration::from_secs(1) / self.fps.max(1);
        while !stop.load(Ordering::SeqCst) {
            let frame = match frames.recv_timeout(POLL) {
                Ok(frame) => Arc::new(frame),
                Err(RecvError::Timeout) => continue,
                Err(RecvError::Stopped) => break,
                Err(RecvError::Failed(e)) => return Err(e.into()),
            };
            {
                let mut s = lock(&self.stats);
                s.frames_captured += 1;
                s.frames_skipped = frames.dropped();
            }
            if let Some(show) = &self.on_local {
                show(Arc::clone(&frame));
            }
            let offset = *offset
                .get_or_insert_with(|| (*lock(&self.clock) + gap).saturating_sub(frame.timestamp));
            let size = (frame.width(), frame.height());
            let stale = encoder
                .as_ref()
                .is_none_or(|e| (e.config().width, e.config().height) != size);
            if stale {
                // A camera may deliver another size than asked; follow it.
                encoder = Some(self.encoder(size)?);
            }
            let Some(enc) = encoder.as_mut() else {
                continue;
            };
            let running = apply_control(enc, &self.control);
            if !running.contains(&true) || self.muted.load(Ordering::Relaxed) {
                continue;
            }
            enc.encode(&frame, &mut encoded)?;
            let mut s = lock(&self.stats);
            for (i, _) in running.iter().enumerate().filter(|(_, r)| **r) {
                s.frames_offered[i] += 1;
            }
            for (layer, _) in encoded.iter() {
                s.frames_encoded[layer as usize] += 1;
            }
            drop(s);
            for (layer, f) in encoded.iter() {
                let capture = f.timestamp + offset;
                *lock(&self.clock) = capture;
                let _ = self.out.try_send(Outgoing::Video {
                    layer,
                    capture,
                    data: f.data.clone(),
                });
            }
        }
        Ok(())
    }

    fn encoder(&self, size: (u32, u32)) -> Result<SimulcastEncoder, ClientError> {
        let mut config = SimulcastConfig::new(size.0, size.1);
        for layer in &mut config.layers {
            layer.max_fps = layer.max_fps.min(self.fps.max(1));
        }
        let mut fresh = SimulcastEncoder::new(config)?;
        for layer in Layer::ALL {
            fresh.pause(layer);
        }
        Ok(fresh)
    }
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
