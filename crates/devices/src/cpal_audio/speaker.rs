//! Playback through cpal.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use cpal::traits::{DeviceTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample, StreamConfig};

use super::{choose_config, is_fatal, open_error};
use crate::{
    AudioFrame, DeviceError, DeviceInfo, PlaybackStats, SAMPLE_RATE, Speaker, StreamResampler,
};

/// Audio queued beyond this is dropped (oldest first): latency in a call is
/// worse than a skip.
const MAX_QUEUED: std::time::Duration = std::time::Duration::from_millis(500);

/// State shared between [`Speaker::play`] and the device callback.
#[derive(Debug, Default)]
struct Queue {
    samples: VecDeque<f32>,
    /// Set by the first `play`: silence before that is not starvation.
    fed: bool,
    /// Queued samples the device has taken (silence it was given instead
    /// is not counted).
    consumed: u64,
    underruns: u64,
    overflowed: u64,
    failure: Option<DeviceError>,
}

fn lock(q: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    q.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A cpal output device playing 48 kHz mono.
pub struct CpalSpeaker {
    device: cpal::Device,
    info: DeviceInfo,
    config: StreamConfig,
    format: SampleFormat,
    resampler: StreamResampler,
    scratch: Vec<f32>,
    queue: Arc<Mutex<Queue>>,
    stream: Option<cpal::Stream>,
    /// Streams rebuilt after a backend error since the last `start`.
    restarts: u32,
}

/// A backend error that is not the device going away (ALSA's PulseAudio
/// plugin reports a passing I/O error while its sink stalls at start-up)
/// rebuilds the stream this many times before the speaker gives up.
const MAX_RESTARTS: u32 = 3;

impl std::fmt::Debug for CpalSpeaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpalSpeaker")
            .field("info", &self.info)
            .field("config", &self.config)
            .field("format", &self.format)
            .field("running", &self.stream.is_some())
            .finish()
    }
}

impl CpalSpeaker {
    pub(super) fn new(device: cpal::Device, info: DeviceInfo) -> Result<Self, DeviceError> {
        let ranges = device
            .supported_output_configs()
            .map_err(|e| open_error(e, info.kind, &info.name))?;
        let (config, format) = choose_config(ranges).ok_or_else(|| DeviceError::Unsupported {
            kind: info.kind,
            name: info.name.clone(),
            wanted: "a sample format Confab writes (f32, i16 or i32)".into(),
        })?;
        Ok(Self {
            device,
            info,
            config,
            format,
            resampler: StreamResampler::new(SAMPLE_RATE, config.sample_rate)?,
            scratch: Vec::new(),
            restarts: 0,
            queue: Arc::default(),
            stream: None,
        })
    }

    /// The device-side configuration in use.
    pub fn config(&self) -> StreamConfig {
        self.config
    }

    fn build(&self) -> Result<cpal::Stream, DeviceError> {
        match self.format {
            SampleFormat::I16 => self.build_typed::<i16>(),
            SampleFormat::I32 => self.build_typed::<i32>(),
            _ => self.build_typed::<f32>(),
        }
    }

    fn build_typed<T>(&self) -> Result<cpal::Stream, DeviceError>
    where
        T: SizedSample + FromSample<f32> + Send + 'static,
    {
        let channels = usize::from(self.config.channels.max(1));
        let (queue, errors) = (Arc::clone(&self.queue), Arc::clone(&self.queue));
        let lost = DeviceError::Disappeared {
            kind: self.info.kind,
            name: self.info.name.clone(),
        };
        let on_data = move |out: &mut [T], _: &cpal::OutputCallbackInfo| {
            let mut q = lock(&queue);
            let frames = out.len() / channels;
            if q.fed && q.samples.len() < frames {
                q.underruns += 1;
            }
            let real = q.samples.len().min(frames);
            for (i, frame) in out.chunks_exact_mut(channels).enumerate() {
                let sample = if i < real {
                    q.samples.pop_front()
                } else {
                    None
                };
                frame.fill(T::from_sample(sample.unwrap_or(0.0)));
            }
            q.consumed += real as u64;
        };
        let on_error = move |e: cpal::Error| {
            if is_fatal(&e) {
                lock(&errors).failure = Some(match e.kind() {
                    cpal::ErrorKind::DeviceNotAvailable => lost.clone(),
                    _ => DeviceError::AudioBackend(e.to_string()),
                });
            }
        };
        self.device
            .build_output_stream::<T, _, _>(self.config, on_data, on_error, None)
            .map_err(|e| open_error(e, self.info.kind, &self.info.name))
    }
}

impl CpalSpeaker {
    fn open_stream(&mut self) -> Result<(), DeviceError> {
        let stream = self.build()?;
        stream
            .play()
            .map_err(|e| open_error(e, self.info.kind, &self.info.name))?;
        self.stream = Some(stream);
        Ok(())
    }
}

impl Speaker for CpalSpeaker {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn start(&mut self) -> Result<(), DeviceError> {
        self.stop();
        *lock(&self.queue) = Queue::default();
        self.restarts = 0;
        self.open_stream()
    }

    fn play(&mut self, frame: &AudioFrame) -> Result<(), DeviceError> {
        // The guard must be gone before the stream is dropped: dropping it
        // joins the callback thread, which may be waiting for this lock.
        let failure = lock(&self.queue).failure.take();
        if let Some(failure) = failure {
            self.stream = None;
            let passing = matches!(failure, DeviceError::AudioBackend(_));
            if !passing || self.restarts >= MAX_RESTARTS {
                lock(&self.queue).failure = Some(failure.clone());
                return Err(failure);
            }
            // The queue and its counts carry over, so nothing given is lost.
            self.restarts += 1;
            self.open_stream()?;
        }
        if self.stream.is_none() {
            return Ok(());
        }
        // Resample here, on the caller's thread, to keep the callback light.
        self.scratch.clear();
        self.resampler.process(&frame.samples, &mut self.scratch)?;
        let limit = (MAX_QUEUED.as_millis() as usize) * self.config.sample_rate as usize / 1000;
        let mut q = lock(&self.queue);
        q.samples.extend(self.scratch.iter().copied());
        q.fed = true;
        let excess = q.samples.len().saturating_sub(limit);
        q.samples.drain(..excess);
        q.overflowed += excess as u64;
        Ok(())
    }

    fn stop(&mut self) {
        self.stream = None;
    }

    fn stats(&self) -> PlaybackStats {
        let q = lock(&self.queue);
        let to_48k = |n: u64| n * u64::from(SAMPLE_RATE) / u64::from(self.config.sample_rate);
        PlaybackStats {
            played: to_48k(q.consumed),
            underruns: q.underruns,
            overflowed: to_48k(q.overflowed),
        }
    }
}
