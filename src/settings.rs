//! Settings kept on this device (with gloo-storage, in localStorage): who is using it, their team
//! and workspace, the device's reference prefix and counter, and the theme.

use gloo_storage::{LocalStorage, Storage};
use outpost_core::incident::FieldError;
use outpost_core::reference::{next_sequence, DevicePrefix, ReferenceNumber};
use serde::{Deserialize, Serialize};

use crate::clock::random_bytes;

const KEY: &str = "outpost.settings";

/// Light, dark, or follow the system.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Follow the operating system.
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl Theme {
    /// Every theme, for the picker.
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    /// The stored key.
    pub fn key(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// The label.
    pub fn label(self) -> &'static str {
        match self {
            Theme::System => "Same as the device",
            Theme::Light => "Light",
            Theme::Dark => "Dark",
        }
    }

    /// Parses a key.
    pub fn from_key(key: &str) -> Theme {
        Self::ALL
            .into_iter()
            .find(|t| t.key() == key)
            .unwrap_or_default()
    }
}

/// This device's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The person using this device, as recorded on every change.
    pub user_name: String,
    /// Their team (assignment group).
    pub team: String,
    /// The workspace their incidents belong to.
    pub workspace: String,
    /// This device's reference prefix, e.g. `7F3A`.
    pub device_prefix: String,
    /// The last reference sequence number this device handed out.
    pub last_sequence: u32,
    /// Light or dark.
    pub theme: Theme,
    /// The relay's address; empty means the site the app was loaded from.
    pub relay_url: String,
    /// The access token from the relay's administrator.
    pub token: String,
    /// Whether the token came automatically from a relay in development mode.
    pub development_token: bool,
    /// The role the relay gives this device's token (`viewer`, `agent`, `manager`, `admin`),
    /// as it last said; empty until it has. Kept so the app knows it offline.
    pub role: String,
    /// The groups the relay says this device's token is in (for incidents restricted to
    /// groups), as it last said.
    pub groups: Vec<String>,
    /// Whether the relay has confirmed `device_prefix` as this device's alone in the workspace
    /// (it claims the prefix, or gives another, when it first connects, and after an edit).
    pub prefix_confirmed: bool,
}

impl Default for Settings {
    fn default() -> Self {
        let [a, b] = random_bytes::<2>();
        Settings {
            user_name: String::new(),
            team: String::new(),
            workspace: "default".to_string(),
            device_prefix: DevicePrefix::from_random(u16::from_be_bytes([a, b])).to_string(),
            last_sequence: 0,
            theme: Theme::System,
            relay_url: String::new(),
            token: String::new(),
            development_token: false,
            role: String::new(),
            groups: Vec::new(),
            prefix_confirmed: false,
        }
    }
}

impl Settings {
    /// The saved settings, or new ones (with a random device prefix) on first use.
    pub fn load() -> Settings {
        LocalStorage::get::<Settings>(KEY).unwrap_or_else(|_| {
            let fresh = Settings::default();
            let _ = fresh.save();
            fresh
        })
    }

    /// Saves the settings.
    pub fn save(&self) -> Result<(), String> {
        LocalStorage::set(KEY, self)
            .map_err(|e| format!("Settings could not be saved on this device ({e})."))
    }

    /// Problems with the settings, per field.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = Vec::new();
        if self.user_name.trim().is_empty() {
            problems.push(FieldError::new(
                "user_name",
                "Your name is required: it is recorded on every change you make.",
            ));
        }
        if self.workspace.trim().is_empty() {
            problems.push(FieldError::new("workspace", "The workspace is required."));
        }
        if let Err(e) = DevicePrefix::new(&self.device_prefix) {
            problems.push(FieldError::new("device_prefix", e.to_string()));
        }
        if crate::sync::endpoint(&self.relay_url).is_none() {
            problems.push(FieldError::new(
                "relay_url",
                "The relay address must start with https://, http://, wss:// or ws://, or be empty.",
            ));
        }
        problems
    }

    /// The device prefix (falls back to a random one if the stored one is invalid).
    pub fn prefix(&self) -> DevicePrefix {
        DevicePrefix::new(&self.device_prefix).unwrap_or_else(|_| {
            let [a, b] = random_bytes::<2>();
            DevicePrefix::from_random(u16::from_be_bytes([a, b]))
        })
    }

    /// The next reference number, skipping any this prefix already used (so a wiped counter
    /// never repeats one). The caller saves the settings once the incident is stored.
    pub fn allocate_reference<'a>(
        &mut self,
        existing: impl IntoIterator<Item = &'a ReferenceNumber>,
    ) -> ReferenceNumber {
        let prefix = self.prefix();
        let sequence = next_sequence(&prefix, self.last_sequence, existing);
        self.last_sequence = sequence;
        ReferenceNumber::new(prefix, sequence)
    }
}
