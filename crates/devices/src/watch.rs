//! Turning device listings into events, and wording the fallback.
//!
//! Sans-IO: [`DeviceWatcher::update`] takes a listing and returns what
//! changed since the last one, so tests feed it listings directly. The app's
//! driver calls [`DeviceWatcher::poll`] on a timer (about once a second) and
//! also when a capture stream ends with [`crate::DeviceError::Disappeared`].

use std::collections::BTreeMap;
use std::fmt;

use crate::{DeviceCatalog, DeviceError, DeviceId, DeviceInfo, DeviceKind};

/// A change in the set of devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceEvent {
    Added(DeviceInfo),
    Disappeared(DeviceInfo),
    /// The system default of a kind is now this device, or there is none.
    DefaultChanged {
        kind: DeviceKind,
        default: Option<DeviceInfo>,
    },
}

/// Remembers the last listing of each kind.
#[derive(Debug, Default)]
pub struct DeviceWatcher {
    last: BTreeMap<DeviceKind, Vec<DeviceInfo>>,
}

impl DeviceWatcher {
    /// A watcher that has seen nothing yet: its first update reports every
    /// device as added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lists every kind through `catalog` and returns the changes.
    pub fn poll(&mut self, catalog: &dyn DeviceCatalog) -> Result<Vec<DeviceEvent>, DeviceError> {
        let mut events = Vec::new();
        for kind in DeviceKind::ALL {
            events.extend(self.update(kind, catalog.devices(kind)?));
        }
        Ok(events)
    }

    /// Compares a new listing of `kind` with the previous one.
    pub fn update(&mut self, kind: DeviceKind, now: Vec<DeviceInfo>) -> Vec<DeviceEvent> {
        let before = self.last.remove(&kind).unwrap_or_default();
        let has = |list: &[DeviceInfo], id: &DeviceId| list.iter().any(|d| &d.id == id);
        let mut events: Vec<DeviceEvent> = before
            .iter()
            .filter(|d| !has(&now, &d.id))
            .map(|d| DeviceEvent::Disappeared(d.clone()))
            .collect();
        events.extend(
            now.iter()
                .filter(|d| !has(&before, &d.id))
                .map(|d| DeviceEvent::Added(d.clone())),
        );
        let old_default = default_of(&before).map(|d| &d.id);
        let new_default = default_of(&now);
        if old_default != new_default.map(|d| &d.id) {
            events.push(DeviceEvent::DefaultChanged {
                kind,
                default: new_default.cloned(),
            });
        }
        self.last.insert(kind, now);
        events
    }
}

/// The default of a listing: the one marked so, else the first.
fn default_of(list: &[DeviceInfo]) -> Option<&DeviceInfo> {
    list.iter().find(|d| d.is_default).or_else(|| list.first())
}

/// What to do, and tell the person, when the device in use disappeared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    pub lost: DeviceInfo,
    /// The device to switch to: the current default, if there is one.
    pub to: Option<DeviceInfo>,
}

impl Fallback {
    /// Looks through `events` for the loss of the device `in_use`, and picks
    /// the default that the same batch (or `current_default`) names.
    pub fn find(
        events: &[DeviceEvent],
        in_use: &DeviceId,
        current_default: Option<&DeviceInfo>,
    ) -> Option<Self> {
        let lost = events.iter().find_map(|e| match e {
            DeviceEvent::Disappeared(d) if &d.id == in_use => Some(d.clone()),
            _ => None,
        })?;
        let announced = events.iter().find_map(|e| match e {
            DeviceEvent::DefaultChanged { kind, default } if *kind == lost.kind => {
                Some(default.clone())
            }
            _ => None,
        });
        let to = announced.unwrap_or_else(|| current_default.cloned());
        Some(Self { lost, to })
    }
}

impl fmt::Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.lost.kind;
        write!(f, "The {kind} \"{}\" was disconnected; ", self.lost.name)?;
        match &self.to {
            Some(to) => write!(f, "using \"{}\" (the system default) instead.", to.name),
            None => write!(f, "no other {kind} is available."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mic(id: &str, is_default: bool) -> DeviceInfo {
        DeviceInfo {
            id: DeviceId(id.into()),
            name: format!("Mic {id}"),
            kind: DeviceKind::Microphone,
            is_default,
        }
    }

    #[test]
    fn first_listing_reports_everything_added_and_the_default() {
        let mut w = DeviceWatcher::new();
        let events = w.update(
            DeviceKind::Microphone,
            vec![mic("a", true), mic("b", false)],
        );
        assert_eq!(
            events,
            vec![
                DeviceEvent::Added(mic("a", true)),
                DeviceEvent::Added(mic("b", false)),
                DeviceEvent::DefaultChanged {
                    kind: DeviceKind::Microphone,
                    default: Some(mic("a", true))
                }
            ]
        );
        assert!(
            w.update(
                DeviceKind::Microphone,
                vec![mic("a", true), mic("b", false)]
            )
            .is_empty()
        );
    }

    #[test]
    fn losing_the_default_names_the_new_default_and_words_the_fallback() {
        let mut w = DeviceWatcher::new();
        w.update(
            DeviceKind::Microphone,
            vec![mic("a", true), mic("b", false)],
        );
        let events = w.update(DeviceKind::Microphone, vec![mic("b", true)]);
        let fallback = Fallback::find(&events, &DeviceId("a".into()), None).unwrap();
        assert_eq!(fallback.to, Some(mic("b", true)));
        assert_eq!(
            fallback.to_string(),
            "The microphone \"Mic a\" was disconnected; using \"Mic b\" (the system default) instead."
        );
    }

    #[test]
    fn losing_the_last_device_says_there_is_none() {
        let mut w = DeviceWatcher::new();
        w.update(DeviceKind::Microphone, vec![mic("a", true)]);
        let events = w.update(DeviceKind::Microphone, vec![]);
        let fallback = Fallback::find(&events, &DeviceId("a".into()), None).unwrap();
        assert_eq!(
            fallback.to_string(),
            "The microphone \"Mic a\" was disconnected; no other microphone is available."
        );
        assert_eq!(Fallback::find(&events, &DeviceId("z".into()), None), None);
    }
}
