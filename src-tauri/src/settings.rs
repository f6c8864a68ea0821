//! What the person chose, kept between launches: name, devices, theme,
//! shortcuts, the host-mode address (in `settings.json` in the app's config
//! directory), and the meetings they joined lately (`recent.json` in its
//! data directory).
//!
//! Files are written whole to a temporary name and renamed, so a crash
//! leaves the old file or the new one, never half of one. A file that does
//! not parse is set aside as `*.broken` and the defaults are used: a person
//! should not be locked out of the app by a settings typo.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use ts_rs::TS;

/// The longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Meetings remembered on Home.
pub const MAX_RECENT: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Settings {
    /// The name others see in meetings.
    pub display_name: String,
    /// Chosen devices by backend id; `None` follows the system default.
    pub camera: Option<String>,
    pub microphone: Option<String>,
    pub speaker: Option<String>,
    /// Join with the camera / microphone on.
    pub camera_on: bool,
    pub microphone_on: bool,
    pub theme: Theme,
    pub shortcuts: Shortcuts,
    /// Where host mode listens, like `0.0.0.0:8443`.
    pub host_bind: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            display_name: String::new(),
            camera: None,
            microphone: None,
            speaker: None,
            camera_on: true,
            microphone_on: true,
            theme: Theme::System,
            shortcuts: Shortcuts::default(),
            host_bind: "0.0.0.0:8443".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    System,
    Light,
    Dark,
}

/// Keyboard shortcuts in the meeting, as `Ctrl+D`-style strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Shortcuts {
    pub toggle_microphone: String,
    pub toggle_camera: String,
    pub leave: String,
    /// Held while muted, the microphone is open (push to talk).
    pub push_to_talk: String,
    pub raise_hand: String,
}

impl Default for Shortcuts {
    fn default() -> Self {
        Self {
            toggle_microphone: "Ctrl+D".into(),
            toggle_camera: "Ctrl+E".into(),
            leave: "Ctrl+Shift+H".into(),
            push_to_talk: "Space".into(),
            raise_hand: "Ctrl+Shift+R".into(),
        }
    }
}

/// A meeting joined from this computer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RecentMeeting {
    pub code: String,
    /// The host's base URL when the meeting was joined by link.
    pub host: Option<String>,
    /// When, RFC 3339.
    pub joined_at: String,
}

/// Why settings were not saved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("The display name can have at most {MAX_NAME_CHARS} characters.")]
    NameTooLong,
    #[error("“{0}” is not an address to listen on; write it like 0.0.0.0:8443.")]
    BadBind(String),
    #[error("Two shortcuts are both {0}; give each action its own keys.")]
    ShortcutClash(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Settings {
    /// Trims what people type and refuses what would not work.
    pub fn checked(mut self) -> Result<Self, SettingsError> {
        self.display_name = self.display_name.trim().to_owned();
        if self.display_name.chars().count() > MAX_NAME_CHARS {
            return Err(SettingsError::NameTooLong);
        }
        self.host_bind = self.host_bind.trim().to_owned();
        self.host_bind
            .parse::<SocketAddr>()
            .map_err(|_| SettingsError::BadBind(self.host_bind.clone()))?;
        let keys = [
            &self.shortcuts.toggle_microphone,
            &self.shortcuts.toggle_camera,
            &self.shortcuts.leave,
            &self.shortcuts.push_to_talk,
            &self.shortcuts.raise_hand,
        ];
        for (i, a) in keys.iter().enumerate() {
            if keys[i + 1..]
                .iter()
                .any(|b| !a.is_empty() && a.eq_ignore_ascii_case(b))
            {
                return Err(SettingsError::ShortcutClash((*a).clone()));
            }
        }
        Ok(self)
    }
}

/// Where settings and recent meetings live.
#[derive(Debug, Clone)]
pub struct SettingsStore {
    settings: PathBuf,
    recent: PathBuf,
}

impl SettingsStore {
    pub fn new(config_dir: &Path, data_dir: &Path) -> Self {
        Self {
            settings: config_dir.join("settings.json"),
            recent: data_dir.join("recent.json"),
        }
    }

    pub fn settings_path(&self) -> &Path {
        &self.settings
    }

    pub fn load(&self) -> Settings {
        read_or_default(&self.settings)
    }

    pub fn save(&self, settings: Settings) -> Result<Settings, SettingsError> {
        let settings = settings.checked()?;
        write_atomically(&self.settings, &settings)?;
        Ok(settings)
    }

    pub fn recent(&self) -> Vec<RecentMeeting> {
        read_or_default(&self.recent)
    }

    /// Puts `meeting` first, without duplicates, keeping [`MAX_RECENT`].
    pub fn remember(&self, meeting: RecentMeeting) -> Result<Vec<RecentMeeting>, SettingsError> {
        let mut recent = self.recent();
        recent.retain(|m| !(m.code == meeting.code && m.host == meeting.host));
        recent.insert(0, meeting);
        recent.truncate(MAX_RECENT);
        write_atomically(&self.recent, &recent)?;
        Ok(recent)
    }
}

pub(crate) fn read_or_default<T: DeserializeOwned + Default>(path: &Path) -> T {
    let Ok(text) = std::fs::read_to_string(path) else {
        return T::default();
    };
    serde_json::from_str(&text).unwrap_or_else(|e| {
        let aside = path.with_extension("json.broken");
        tracing::warn!(
            "{} does not parse ({e}); moved to {} and using defaults",
            path.display(),
            aside.display()
        );
        let _ = std::fs::rename(path, aside);
        T::default()
    })
}

pub(crate) fn write_atomically<T: Serialize>(path: &Path, value: &T) -> Result<(), SettingsError> {
    let write = || -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("json.tmp");
        let json = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, json)?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|source| SettingsError::Write {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, SettingsStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SettingsStore::new(&dir.path().join("config"), &dir.path().join("data"));
        (dir, store)
    }

    #[test]
    fn settings_survive_a_restart_and_names_are_trimmed() {
        let (_dir, store) = store();
        assert_eq!(store.load(), Settings::default());
        let chosen = Settings {
            display_name: "  Ada Lovelace ".into(),
            camera: Some("fake-camera-1".into()),
            theme: Theme::Dark,
            ..Settings::default()
        };
        let saved = store.save(chosen).unwrap();
        assert_eq!(saved.display_name, "Ada Lovelace");
        let again = SettingsStore::new(
            store.settings.parent().unwrap(),
            store.recent.parent().unwrap(),
        );
        assert_eq!(again.load(), saved);
    }

    #[test]
    fn bad_settings_are_refused_with_a_sentence_and_nothing_is_written() {
        let (_dir, store) = store();
        let long = Settings {
            display_name: "x".repeat(65),
            ..Settings::default()
        };
        assert!(matches!(store.save(long), Err(SettingsError::NameTooLong)));
        let bind = Settings {
            host_bind: "office:8443".into(),
            ..Settings::default()
        };
        let err = store.save(bind).unwrap_err().to_string();
        assert_eq!(
            err,
            "“office:8443” is not an address to listen on; write it like 0.0.0.0:8443."
        );
        let mut clash = Settings::default();
        clash.shortcuts.leave = "ctrl+d".into();
        assert!(matches!(
            store.save(clash),
            Err(SettingsError::ShortcutClash(_))
        ));
        assert!(!store.settings_path().exists());
    }

    #[test]
    fn a_broken_settings_file_is_set_aside_and_defaults_used() {
        let (_dir, store) = store();
        std::fs::create_dir_all(store.settings.parent().unwrap()).unwrap();
        std::fs::write(&store.settings, "{ not json").unwrap();
        assert_eq!(store.load(), Settings::default());
        assert!(store.settings.with_extension("json.broken").exists());
    }

    #[test]
    fn recent_meetings_keep_the_newest_first_without_repeats() {
        let (_dir, store) = store();
        let meeting = |code: &str, at: &str| RecentMeeting {
            code: code.into(),
            host: None,
            joined_at: at.into(),
        };
        for i in 0..10 {
            store
                .remember(meeting(&format!("aaa-bbbb-c{i:02}"), "t"))
                .unwrap();
        }
        let recent = store.remember(meeting("aaa-bbbb-c03", "later")).unwrap();
        assert_eq!(recent.len(), MAX_RECENT);
        assert_eq!(recent[0].code, "aaa-bbbb-c03");
        assert_eq!(recent[0].joined_at, "later");
        assert_eq!(
            recent.iter().filter(|m| m.code == "aaa-bbbb-c03").count(),
            1
        );
        assert_eq!(store.recent(), recent);
    }
}
