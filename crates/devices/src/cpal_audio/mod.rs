//! Microphones and speakers through cpal.
//!
//! Streams run at 48 kHz where the device offers it, otherwise at the rate
//! nearest to it, resampled with rubato ([`crate::StreamResampler`]). Audio
//! is downmixed to mono on capture and copied to every channel on playback.
//! Buffers are 10 ms when the device accepts a fixed size.

mod mic;
mod speaker;

use cpal::traits::{DeviceTrait, HostTrait};
use cpal::{
    BufferSize, SampleFormat, StreamConfig, SupportedBufferSize, SupportedStreamConfigRange,
};

use crate::{DeviceError, DeviceId, DeviceInfo, DeviceKind, SAMPLE_RATE};

pub use mic::CpalMicrophone;
pub use speaker::CpalSpeaker;

/// The platform's default audio host (ALSA on Linux, which PulseAudio and
/// PipeWire plug into; CoreAudio; WASAPI).
pub struct CpalAudio {
    host: cpal::Host,
}

impl std::fmt::Debug for CpalAudio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpalAudio")
            .field("host", &self.host.id())
            .finish()
    }
}

impl Default for CpalAudio {
    fn default() -> Self {
        Self::new()
    }
}

impl CpalAudio {
    pub fn new() -> Self {
        Self {
            host: cpal::default_host(),
        }
    }

    /// Microphones or speakers; cameras are not cpal's business.
    pub fn devices(&self, kind: DeviceKind) -> Result<Vec<DeviceInfo>, DeviceError> {
        let (devices, default) = match kind {
            DeviceKind::Microphone => (
                self.host
                    .input_devices()
                    .map_err(backend)?
                    .collect::<Vec<_>>(),
                self.host.default_input_device(),
            ),
            DeviceKind::Speaker => (
                self.host.output_devices().map_err(backend)?.collect(),
                self.host.default_output_device(),
            ),
            DeviceKind::Camera => return Ok(Vec::new()),
        };
        let default_id = default.and_then(|d| d.id().ok());
        Ok(devices
            .iter()
            .filter_map(|d| {
                let id = d.id().ok()?;
                Some(DeviceInfo {
                    is_default: default_id.as_ref() == Some(&id),
                    id: DeviceId(id.to_string()),
                    name: name_of(d),
                    kind,
                })
            })
            .collect())
    }

    pub fn open_microphone(&self, id: Option<&DeviceId>) -> Result<CpalMicrophone, DeviceError> {
        let (device, info) = self.resolve(DeviceKind::Microphone, id)?;
        CpalMicrophone::new(device, info)
    }

    pub fn open_speaker(&self, id: Option<&DeviceId>) -> Result<CpalSpeaker, DeviceError> {
        let (device, info) = self.resolve(DeviceKind::Speaker, id)?;
        CpalSpeaker::new(device, info)
    }

    fn resolve(
        &self,
        kind: DeviceKind,
        id: Option<&DeviceId>,
    ) -> Result<(cpal::Device, DeviceInfo), DeviceError> {
        let default = match kind {
            DeviceKind::Speaker => self.host.default_output_device(),
            _ => self.host.default_input_device(),
        };
        let default_id = default.as_ref().and_then(|d| d.id().ok());
        let device = match id {
            None => default.ok_or(DeviceError::NoneFound(kind))?,
            Some(id) => {
                let gone = || DeviceError::Disappeared {
                    kind,
                    name: id.to_string(),
                };
                let parsed: cpal::DeviceId = id.0.parse().map_err(|_| gone())?;
                self.host.device_by_id(&parsed).ok_or_else(gone)?
            }
        };
        let device_id = device
            .id()
            .map_err(|e| open_error(e, kind, &name_of(&device)))?;
        let info = DeviceInfo {
            is_default: default_id.as_ref() == Some(&device_id),
            id: DeviceId(device_id.to_string()),
            name: name_of(&device),
            kind,
        };
        Ok((device, info))
    }
}

fn name_of(device: &cpal::Device) -> String {
    device
        .description()
        .map(|d| d.name().to_owned())
        .unwrap_or_else(|_| device.to_string())
}

fn backend(e: cpal::Error) -> DeviceError {
    DeviceError::AudioBackend(e.to_string())
}

/// Maps a cpal failure to open or run a device to what the person can do.
fn open_error(e: cpal::Error, kind: DeviceKind, name: &str) -> DeviceError {
    let name = name.to_owned();
    match e.kind() {
        cpal::ErrorKind::DeviceBusy => DeviceError::Busy { kind, name },
        cpal::ErrorKind::DeviceNotAvailable => DeviceError::Disappeared { kind, name },
        cpal::ErrorKind::PermissionDenied => DeviceError::PermissionDenied { kind, name },
        cpal::ErrorKind::UnsupportedConfig => DeviceError::Unsupported {
            kind,
            name,
            wanted: format!("a usable audio format ({e})"),
        },
        _ => backend(e),
    }
}

/// Whether a stream error ends the stream (rather than being a glitch).
fn is_fatal(e: &cpal::Error) -> bool {
    !matches!(
        e.kind(),
        cpal::ErrorKind::Xrun | cpal::ErrorKind::DeviceChanged | cpal::ErrorKind::RealtimeDenied
    )
}

/// The sample formats we convert; others are skipped.
const FORMATS: [SampleFormat; 3] = [SampleFormat::F32, SampleFormat::I16, SampleFormat::I32];

/// Picks a stream configuration: a format we convert, 48 kHz if offered
/// (else the nearest rate), fewest channels, and 10 ms buffers if allowed.
fn choose_config(
    ranges: impl Iterator<Item = SupportedStreamConfigRange>,
) -> Option<(StreamConfig, SampleFormat)> {
    let best = ranges
        .filter_map(|r| Some((FORMATS.iter().position(|f| *f == r.sample_format())?, r)))
        .min_by_key(|(format_rank, r)| {
            let rate = SAMPLE_RATE.clamp(r.min_sample_rate(), r.max_sample_rate());
            (rate.abs_diff(SAMPLE_RATE), r.channels(), *format_rank)
        })?
        .1;
    let rate = SAMPLE_RATE.clamp(best.min_sample_rate(), best.max_sample_rate());
    let ten_ms = rate / 100;
    let buffer_size = match best.buffer_size() {
        SupportedBufferSize::Range { min, max } if (*min..=*max).contains(&ten_ms) => {
            BufferSize::Fixed(ten_ms)
        }
        _ => BufferSize::Default,
    };
    let config = StreamConfig {
        channels: best.channels(),
        sample_rate: rate,
        buffer_size,
    };
    Some((config, best.sample_format()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(ch: u16, min: u32, max: u32, f: SampleFormat) -> SupportedStreamConfigRange {
        let buffers = SupportedBufferSize::Range { min: 64, max: 8192 };
        SupportedStreamConfigRange::new(ch, min, max, buffers, f)
    }

    #[test]
    fn prefers_48k_mono_float_with_10ms_buffers() {
        let offered = vec![
            range(2, 44_100, 44_100, SampleFormat::F32),
            range(2, 8_000, 192_000, SampleFormat::I16),
            range(1, 8_000, 192_000, SampleFormat::F32),
            range(1, 8_000, 192_000, SampleFormat::U8),
        ];
        let (config, format) = choose_config(offered.into_iter()).unwrap();
        assert_eq!(format, SampleFormat::F32);
        assert_eq!(
            config,
            StreamConfig {
                channels: 1,
                sample_rate: 48_000,
                buffer_size: BufferSize::Fixed(480)
            }
        );
    }

    #[test]
    fn takes_the_nearest_rate_when_48k_is_not_offered() {
        let offered = vec![
            range(2, 44_100, 44_100, SampleFormat::I16),
            range(2, 16_000, 16_000, SampleFormat::F32),
            range(1, 8_000, 8_000, SampleFormat::U8),
        ];
        let (config, format) = choose_config(offered.into_iter()).unwrap();
        assert_eq!((config.sample_rate, config.channels), (44_100, 2));
        assert_eq!(format, SampleFormat::I16);
        assert!(
            choose_config(vec![range(1, 8_000, 8_000, SampleFormat::U8)].into_iter()).is_none()
        );
    }
}
