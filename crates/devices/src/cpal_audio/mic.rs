//! Capture through cpal.

use std::sync::Arc;
use std::time::Duration;

use cpal::traits::{DeviceTrait, StreamTrait};
use cpal::{FromSample, Sample, SampleFormat, SizedSample, StreamConfig};

use super::{choose_config, is_fatal, open_error};
use crate::{
    AUDIO_QUEUE_FRAMES, AudioFrame, DeviceError, DeviceInfo, FrameReceiver, FrameSender,
    Microphone, SAMPLE_RATE, SAMPLES_PER_10MS, StreamResampler, frame_channel,
};

/// A cpal input device delivering 10 ms frames of 48 kHz mono.
pub struct CpalMicrophone {
    device: cpal::Device,
    info: DeviceInfo,
    config: StreamConfig,
    format: SampleFormat,
    stream: Option<cpal::Stream>,
}

impl std::fmt::Debug for CpalMicrophone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpalMicrophone")
            .field("info", &self.info)
            .field("config", &self.config)
            .field("format", &self.format)
            .field("running", &self.stream.is_some())
            .finish()
    }
}

impl CpalMicrophone {
    pub(super) fn new(device: cpal::Device, info: DeviceInfo) -> Result<Self, DeviceError> {
        let ranges = device
            .supported_input_configs()
            .map_err(|e| open_error(e, info.kind, &info.name))?;
        let (config, format) = choose_config(ranges).ok_or_else(|| DeviceError::Unsupported {
            kind: info.kind,
            name: info.name.clone(),
            wanted: "a sample format Confab reads (f32, i16 or i32)".into(),
        })?;
        Ok(Self {
            device,
            info,
            config,
            format,
            stream: None,
        })
    }

    /// The device-side configuration in use.
    pub fn config(&self) -> StreamConfig {
        self.config
    }

    fn build(&self, tx: FrameSender<AudioFrame>) -> Result<cpal::Stream, DeviceError> {
        match self.format {
            SampleFormat::I16 => self.build_typed::<i16>(tx),
            SampleFormat::I32 => self.build_typed::<i32>(tx),
            _ => self.build_typed::<f32>(tx),
        }
    }

    fn build_typed<T>(&self, tx: FrameSender<AudioFrame>) -> Result<cpal::Stream, DeviceError>
    where
        T: SizedSample + Send + 'static,
        f32: FromSample<T>,
    {
        let tx = Arc::new(tx);
        let mut framer = Framer::new(self.config, Arc::clone(&tx))?;
        let lost = DeviceError::Disappeared {
            kind: self.info.kind,
            name: self.info.name.clone(),
        };
        let on_error = move |e: cpal::Error| {
            if is_fatal(&e) {
                tx.fail(match e.kind() {
                    cpal::ErrorKind::DeviceNotAvailable => lost.clone(),
                    _ => DeviceError::AudioBackend(e.to_string()),
                });
            }
        };
        let on_data = move |data: &[T], _: &cpal::InputCallbackInfo| framer.push(data);
        self.device
            .build_input_stream::<T, _, _>(self.config, on_data, on_error, None)
            .map_err(|e| open_error(e, self.info.kind, &self.info.name))
    }
}

impl Microphone for CpalMicrophone {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn start(&mut self) -> Result<FrameReceiver<AudioFrame>, DeviceError> {
        self.stop();
        let (tx, rx) = frame_channel(AUDIO_QUEUE_FRAMES);
        let stream = self.build(tx)?;
        stream
            .play()
            .map_err(|e| open_error(e, self.info.kind, &self.info.name))?;
        self.stream = Some(stream);
        Ok(rx)
    }

    fn stop(&mut self) {
        // Dropping the stream drops its callbacks and with them the sender,
        // which ends the receiver as stopped.
        self.stream = None;
    }
}

/// Turns device callbacks of any size, rate and channel count into 10 ms
/// frames of 48 kHz mono. Runs on the audio thread; its buffers are reused.
struct Framer {
    channels: usize,
    resampler: StreamResampler,
    mono: Vec<f32>,
    resampled: Vec<f32>,
    emitted: u64,
    tx: Arc<FrameSender<AudioFrame>>,
}

impl Framer {
    fn new(config: StreamConfig, tx: Arc<FrameSender<AudioFrame>>) -> Result<Self, DeviceError> {
        Ok(Self {
            channels: usize::from(config.channels.max(1)),
            resampler: StreamResampler::new(config.sample_rate, SAMPLE_RATE)?,
            mono: Vec::with_capacity(8192),
            resampled: Vec::with_capacity(8192),
            emitted: 0,
            tx,
        })
    }

    fn push<T: SizedSample>(&mut self, data: &[T])
    where
        f32: FromSample<T>,
    {
        let scale = 1.0 / self.channels as f32;
        self.mono.clear();
        self.mono.extend(
            data.chunks_exact(self.channels)
                .map(|frame| frame.iter().map(|&s| f32::from_sample(s)).sum::<f32>() * scale),
        );
        if let Err(e) = self.resampler.process(&self.mono, &mut self.resampled) {
            self.tx.fail(e);
            return;
        }
        let whole = self.resampled.len() / SAMPLES_PER_10MS * SAMPLES_PER_10MS;
        for chunk in self.resampled[..whole].chunks_exact(SAMPLES_PER_10MS) {
            let timestamp = Duration::from_secs_f64(self.emitted as f64 / f64::from(SAMPLE_RATE));
            self.emitted += SAMPLES_PER_10MS as u64;
            self.tx.send(AudioFrame {
                samples: chunk.to_vec(),
                timestamp,
            });
        }
        self.resampled.drain(..whole);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RecvError;

    #[test]
    fn stereo_i16_at_44k1_becomes_mono_48k_frames() {
        let (tx, rx) = frame_channel(1000);
        let config = StreamConfig {
            channels: 2,
            sample_rate: 44_100,
            buffer_size: cpal::BufferSize::Default,
        };
        let mut framer = Framer::new(config, Arc::new(tx)).unwrap();
        // Left at +half scale, right at zero: mono is a quarter scale.
        let callback: Vec<i16> = [16_384i16, 0].repeat(441);
        for _ in 0..100 {
            framer.push(&callback);
        }
        let mut frames = Vec::new();
        while let Ok(f) = rx.try_recv() {
            frames.push(f);
        }
        assert!(
            (98..=100).contains(&frames.len()),
            "{} frames",
            frames.len()
        );
        assert_eq!(frames[10].timestamp, Duration::from_millis(100));
        let middle = frames[50].samples[240];
        assert!((middle - 0.25).abs() < 0.01, "{middle}");
        drop(framer);
        assert_eq!(rx.try_recv(), Err(RecvError::Stopped));
    }
}
