//! Fake devices behind the same traits as real ones, for tests, the headless
//! client and load tools.
//!
//! A fake camera or microphone pulls pictures or sound from a
//! [`VideoSource`] / [`AudioSource`] and keeps time one of two ways
//! ([`Pacing`]): a thread that delivers frames in real time, or manual
//! stepping with [`FakeCamera::advance_to`] so tests run on virtual time.
//! Frame `i` covers `[i/rate, (i+1)/rate)` and is delivered once that span has
//! passed, stamped with its start: one second gives 30 video frames at 30 fps
//! and 100 audio frames of 10 ms.
//!
//! A [`Room`] pairs a speaker and a microphone so that what one plays the
//! other hears, delayed and quieter: a speakerphone's echo.

mod catalog;
mod room;
mod speaker;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::source::{AudioSource, VideoSource};
use crate::{
    AUDIO_QUEUE_FRAMES, AudioFrame, Camera, CameraFormat, DeviceError, DeviceInfo, DeviceKind,
    FrameReceiver, FrameSender, Microphone, SAMPLES_PER_10MS, VideoFrame, frame_channel,
};

pub use catalog::FakeCatalog;
pub use room::{Acoustics, Room, RoomMicrophone, RoomSpeaker, SPEAKER_BUFFER};
pub use speaker::{FakeSpeaker, Recording};

/// How a fake device keeps time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// A thread delivers each frame when its time has come.
    RealTime,
    /// Nothing happens until the test calls `advance_to`.
    Manual,
}

/// Whether a fake device is still plugged in; shared with its catalog.
#[derive(Debug, Clone)]
pub struct Plug(Arc<AtomicBool>);

impl Plug {
    pub fn new() -> Self {
        Self(Arc::new(AtomicBool::new(true)))
    }

    pub fn is_present(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    pub fn unplug(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl Default for Plug {
    fn default() -> Self {
        Self::new()
    }
}

/// Makes frame `index`.
trait Produce: Send + 'static {
    type Frame: Send + 'static;
    fn produce(&mut self, index: u64, timestamp: Duration) -> Self::Frame;
}

struct VideoProducer(Box<dyn VideoSource>);

impl Produce for VideoProducer {
    type Frame = VideoFrame;
    fn produce(&mut self, index: u64, timestamp: Duration) -> VideoFrame {
        self.0.frame(index, timestamp)
    }
}

struct AudioProducer(Box<dyn AudioSource + Send>);

impl Produce for AudioProducer {
    type Frame = AudioFrame;
    fn produce(&mut self, _index: u64, timestamp: Duration) -> AudioFrame {
        let mut samples = vec![0.0; SAMPLES_PER_10MS];
        self.0.fill(&mut samples);
        AudioFrame { samples, timestamp }
    }
}

/// Delivers the frames that are due: the shared clockwork of both fakes.
struct Pacer<P: Produce> {
    producer: P,
    rate: u32,
    delivered: u64,
}

impl<P: Produce> Pacer<P> {
    fn time_of(&self, index: u64) -> Duration {
        // Exact for any rate: 1/30 s is not a whole number of nanoseconds.
        let nanos = u128::from(index) * 1_000_000_000 / u128::from(self.rate.max(1));
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// When the next frame becomes due.
    fn next_due(&self) -> Duration {
        self.time_of(self.delivered + 1)
    }

    fn advance_to(&mut self, now: Duration, tx: &FrameSender<P::Frame>) {
        while self.next_due() <= now {
            let index = self.delivered;
            tx.send(self.producer.produce(index, self.time_of(index)));
            self.delivered += 1;
        }
    }
}

/// Capture machinery shared by [`FakeCamera`] and [`FakeMicrophone`].
///
/// The pacer sits behind a mutex so that a real-time thread and manual
/// stepping use the same one; only one of them runs at a time.
struct FakeCapture<P: Produce> {
    info: DeviceInfo,
    pacing: Pacing,
    plug: Plug,
    capacity: usize,
    pacer: Arc<Mutex<Pacer<P>>>,
    manual: Option<FrameSender<P::Frame>>,
    thread: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl<P: Produce> FakeCapture<P> {
    fn new(info: DeviceInfo, pacing: Pacing, plug: Plug, producer: P, rate: u32) -> Self {
        let capacity = match info.kind {
            DeviceKind::Camera => 1,
            _ => AUDIO_QUEUE_FRAMES,
        };
        let pacer = Pacer {
            producer,
            rate,
            delivered: 0,
        };
        Self {
            info,
            pacing,
            plug,
            capacity,
            pacer: Arc::new(Mutex::new(pacer)),
            manual: None,
            thread: None,
        }
    }

    fn disappeared(&self) -> DeviceError {
        DeviceError::Disappeared {
            kind: self.info.kind,
            name: self.info.name.clone(),
        }
    }

    fn start(&mut self) -> Result<FrameReceiver<P::Frame>, DeviceError> {
        if !self.plug.is_present() {
            return Err(self.disappeared());
        }
        self.stop();
        lock(&self.pacer).delivered = 0;
        let (tx, rx) = frame_channel(self.capacity);
        match self.pacing {
            Pacing::Manual => self.manual = Some(tx),
            Pacing::RealTime => {
                let stop = Arc::new(AtomicBool::new(false));
                let (pacer, flag) = (Arc::clone(&self.pacer), Arc::clone(&stop));
                let (plug, lost) = (self.plug.clone(), self.disappeared());
                let thread = std::thread::Builder::new()
                    .name(format!("fake {}", self.info.kind))
                    .spawn(move || run_real_time(&pacer, &tx, &flag, &plug, lost))
                    .map_err(|e| DeviceError::Thread(e.to_string()))?;
                self.thread = Some((stop, thread));
            }
        }
        Ok(rx)
    }

    fn stop(&mut self) {
        self.manual = None;
        if let Some((stop, thread)) = self.thread.take() {
            stop.store(true, Ordering::SeqCst);
            // A panic there came from a test's source and was already
            // reported on that thread; the receiver sees the stream stop.
            let _ = thread.join();
        }
    }

    fn advance_to(&mut self, now: Duration) {
        let Some(tx) = &self.manual else { return };
        if self.plug.is_present() {
            lock(&self.pacer).advance_to(now, tx);
        } else {
            tx.fail(self.disappeared());
        }
    }
}

impl<P: Produce> Drop for FakeCapture<P> {
    fn drop(&mut self) {
        self.stop();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn run_real_time<P: Produce>(
    pacer: &Mutex<Pacer<P>>,
    tx: &FrameSender<P::Frame>,
    stop: &AtomicBool,
    plug: &Plug,
    lost: DeviceError,
) {
    // Wake at least this often so stop and unplug are noticed promptly.
    const CHECK: Duration = Duration::from_millis(20);
    let start = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        if !plug.is_present() {
            tx.fail(lost);
            break;
        }
        let wait = lock(pacer).next_due().saturating_sub(start.elapsed());
        std::thread::sleep(wait.min(CHECK));
        lock(pacer).advance_to(start.elapsed(), tx);
    }
}

/// A camera showing what a [`VideoSource`] draws.
pub struct FakeCamera {
    capture: FakeCapture<VideoProducer>,
    format: CameraFormat,
}

impl std::fmt::Debug for FakeCamera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeCamera")
            .field("info", &self.capture.info)
            .field("format", &self.format)
            .finish()
    }
}

impl FakeCamera {
    /// A camera delivering `format.fps` frames a second from `source`. The
    /// source should draw pictures of `format`'s size.
    pub fn new(
        info: DeviceInfo,
        format: CameraFormat,
        source: Box<dyn VideoSource>,
        pacing: Pacing,
        plug: Plug,
    ) -> Self {
        let producer = VideoProducer(source);
        Self {
            capture: FakeCapture::new(info, pacing, plug, producer, format.fps),
            format,
        }
    }

    /// With [`Pacing::Manual`]: delivers every frame due by `now` (time
    /// since start). The queue holds one frame, so drain it between steps
    /// to see every frame.
    pub fn advance_to(&mut self, now: Duration) {
        self.capture.advance_to(now);
    }
}

impl Camera for FakeCamera {
    fn info(&self) -> &DeviceInfo {
        &self.capture.info
    }

    fn format(&self) -> CameraFormat {
        self.format
    }

    fn start(&mut self) -> Result<FrameReceiver<VideoFrame>, DeviceError> {
        self.capture.start()
    }

    fn stop(&mut self) {
        self.capture.stop();
    }
}

/// A microphone hearing what an [`AudioSource`] plays, 10 ms at a time.
pub struct FakeMicrophone {
    capture: FakeCapture<AudioProducer>,
}

impl std::fmt::Debug for FakeMicrophone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeMicrophone")
            .field("info", &self.capture.info)
            .finish()
    }
}

impl FakeMicrophone {
    pub fn new(
        info: DeviceInfo,
        source: Box<dyn AudioSource + Send>,
        pacing: Pacing,
        plug: Plug,
    ) -> Self {
        let producer = AudioProducer(source);
        Self {
            capture: FakeCapture::new(info, pacing, plug, producer, 100),
        }
    }

    /// With [`Pacing::Manual`]: delivers every 10 ms frame due by `now`.
    pub fn advance_to(&mut self, now: Duration) {
        self.capture.advance_to(now);
    }
}

impl Microphone for FakeMicrophone {
    fn info(&self) -> &DeviceInfo {
        &self.capture.info
    }

    fn start(&mut self) -> Result<FrameReceiver<AudioFrame>, DeviceError> {
        self.capture.start()
    }

    fn stop(&mut self) {
        self.capture.stop();
    }
}
