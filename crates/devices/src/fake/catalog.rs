//! A catalog of fake devices that tests can plug and unplug.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{FakeCamera, FakeMicrophone, FakeSpeaker, Pacing, Plug, Recording};
use crate::source::{AudioSource, VideoSource};
use crate::{
    Camera, CameraFormat, DeviceCatalog, DeviceError, DeviceId, DeviceInfo, DeviceKind, Microphone,
    Speaker,
};

/// Makes a fresh source each time a fake device is opened.
type VideoSourceFactory = Arc<dyn Fn(CameraFormat) -> Box<dyn VideoSource> + Send + Sync>;
type AudioSourceFactory = Arc<dyn Fn() -> Box<dyn AudioSource + Send> + Send + Sync>;

enum Content {
    Camera(VideoSourceFactory),
    Microphone(AudioSourceFactory),
    Speaker(Recording),
}

struct Entry {
    id: DeviceId,
    name: String,
    kind: DeviceKind,
    plug: Plug,
    content: Content,
    /// Another program holds the device: opening it fails as busy.
    held: bool,
}

#[derive(Default)]
struct State {
    entries: Vec<Entry>,
    /// Chosen defaults; otherwise the first device of a kind is the default.
    defaults: Vec<(DeviceKind, DeviceId)>,
    next: u32,
}

impl State {
    fn default_id(&self, kind: DeviceKind) -> Option<&DeviceId> {
        let chosen = self
            .defaults
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, id)| id);
        chosen.or_else(|| self.entries.iter().find(|e| e.kind == kind).map(|e| &e.id))
    }

    /// The entry to open for `id`, or the default.
    fn pick(&self, kind: DeviceKind, id: Option<&DeviceId>) -> Result<&Entry, DeviceError> {
        let wanted = match id {
            Some(id) => id,
            None => self.default_id(kind).ok_or(DeviceError::NoneFound(kind))?,
        };
        self.entries
            .iter()
            .find(|e| &e.id == wanted && e.kind == kind)
            .ok_or_else(|| DeviceError::Disappeared {
                kind,
                name: wanted.to_string(),
            })
            .and_then(|e| {
                if e.held {
                    Err(DeviceError::Busy {
                        kind,
                        name: e.name.clone(),
                    })
                } else {
                    Ok(e)
                }
            })
    }

    fn info(&self, entry: &Entry) -> DeviceInfo {
        DeviceInfo {
            id: entry.id.clone(),
            name: entry.name.clone(),
            kind: entry.kind,
            is_default: self.default_id(entry.kind) == Some(&entry.id),
        }
    }
}

/// Fake devices by kind. Clones share the same devices, so a test keeps one
/// clone to unplug devices while the code under test holds another.
///
/// Devices it opens run on [`Pacing::RealTime`]; for virtual time, build a
/// [`FakeCamera`] or [`FakeMicrophone`] directly.
#[derive(Clone, Default)]
pub struct FakeCatalog {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for FakeCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeCatalog")
            .field("devices", &self.lock().entries.len())
            .finish()
    }
}

impl FakeCatalog {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn add(&self, kind: DeviceKind, name: &str, content: Content) -> DeviceId {
        let mut state = self.lock();
        state.next += 1;
        let id = DeviceId(format!("fake-{kind}-{}", state.next));
        state.entries.push(Entry {
            id: id.clone(),
            name: name.to_owned(),
            kind,
            plug: Plug::new(),
            content,
            held: false,
        });
        id
    }

    /// Marks a device as held by another program (or frees it again):
    /// while held, opening it fails with [`DeviceError::Busy`], as a
    /// microphone taken by another call does.
    pub fn set_held(&self, id: &DeviceId, held: bool) {
        if let Some(entry) = self.lock().entries.iter_mut().find(|e| &e.id == id) {
            entry.held = held;
        }
    }

    /// Adds a camera; `source` is called with the opened format each time.
    pub fn add_camera(
        &self,
        name: &str,
        source: impl Fn(CameraFormat) -> Box<dyn VideoSource> + Send + Sync + 'static,
    ) -> DeviceId {
        self.add(DeviceKind::Camera, name, Content::Camera(Arc::new(source)))
    }

    pub fn add_microphone(
        &self,
        name: &str,
        source: impl Fn() -> Box<dyn AudioSource + Send> + Send + Sync + 'static,
    ) -> DeviceId {
        let content = Content::Microphone(Arc::new(source));
        self.add(DeviceKind::Microphone, name, content)
    }

    /// Adds a speaker; everything played on it lands in the recording.
    pub fn add_speaker(&self, name: &str) -> (DeviceId, Recording) {
        let recording = Recording::default();
        let content = Content::Speaker(recording.clone());
        (self.add(DeviceKind::Speaker, name, content), recording)
    }

    /// Makes `id` the system default of its kind.
    pub fn set_default(&self, id: &DeviceId) {
        let mut state = self.lock();
        let Some(kind) = state.entries.iter().find(|e| &e.id == id).map(|e| e.kind) else {
            return;
        };
        state.defaults.retain(|(k, _)| *k != kind);
        state.defaults.push((kind, id.clone()));
    }

    /// Pulls a device out: it leaves the listing, open streams of it end
    /// with [`DeviceError::Disappeared`], and if it was the default, the
    /// next device of its kind becomes the default.
    pub fn unplug(&self, id: &DeviceId) {
        let mut state = self.lock();
        if let Some(at) = state.entries.iter().position(|e| &e.id == id) {
            state.entries.remove(at).plug.unplug();
        }
        state.defaults.retain(|(_, d)| d != id);
    }
}

impl DeviceCatalog for FakeCatalog {
    fn devices(&self, kind: DeviceKind) -> Result<Vec<DeviceInfo>, DeviceError> {
        let state = self.lock();
        let of_kind = state.entries.iter().filter(|e| e.kind == kind);
        Ok(of_kind.map(|e| state.info(e)).collect())
    }

    fn open_camera(
        &self,
        id: Option<&DeviceId>,
        format: CameraFormat,
    ) -> Result<Box<dyn Camera>, DeviceError> {
        let state = self.lock();
        let entry = state.pick(DeviceKind::Camera, id)?;
        let Content::Camera(factory) = &entry.content else {
            return Err(DeviceError::NoneFound(DeviceKind::Camera));
        };
        let (info, plug, source) = (state.info(entry), entry.plug.clone(), factory(format));
        let camera = FakeCamera::new(info, format, source, Pacing::RealTime, plug);
        Ok(Box::new(camera))
    }

    fn open_microphone(&self, id: Option<&DeviceId>) -> Result<Box<dyn Microphone>, DeviceError> {
        let state = self.lock();
        let entry = state.pick(DeviceKind::Microphone, id)?;
        let Content::Microphone(factory) = &entry.content else {
            return Err(DeviceError::NoneFound(DeviceKind::Microphone));
        };
        let (info, plug) = (state.info(entry), entry.plug.clone());
        let mic = FakeMicrophone::new(info, factory(), Pacing::RealTime, plug);
        Ok(Box::new(mic))
    }

    fn open_speaker(&self, id: Option<&DeviceId>) -> Result<Box<dyn Speaker>, DeviceError> {
        let state = self.lock();
        let entry = state.pick(DeviceKind::Speaker, id)?;
        let Content::Speaker(recording) = &entry.content else {
            return Err(DeviceError::NoneFound(DeviceKind::Speaker));
        };
        let speaker = FakeSpeaker::new(state.info(entry), entry.plug.clone(), recording.clone());
        Ok(Box::new(speaker))
    }
}
