//! Settings kept on this device (with gloo-storage, in localStorage), one set per sign-in (see
//! [`crate::accounts`]): who is using it, their team and workspace, the device's reference prefix
//! and counter, the theme, and the relay and token it syncs with.

use gloo_storage::{LocalStorage, Storage};
use outpost_core::incident::FieldError;
use outpost_core::reference::{next_sequence, DevicePrefix, ReferenceNumber};
use serde::{Deserialize, Serialize};

use crate::clock::random_bytes;

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
    /// The workspace this sign-in's incidents belong to, as the relay said; empty until it has.
    pub workspace: String,
    /// The person the relay knows this sign-in's token as; empty until it has said. Once set,
    /// the incidents stored here are theirs, in `workspace`, and a token of anyone else's is
    /// refused rather than synced into them.
    pub signed_in_as: String,
    /// Whether the relay has confirmed that `token` is `signed_in_as`'s in `workspace` (checked
    /// before the first sync with a new token).
    pub token_checked: bool,
    /// Whether `signed_in_as` came from a development token (which binds the workspace only).
    pub bound_in_development: bool,
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
    /// The id of the workspace's own document (configuration and directory), as the relay
    /// said; empty until it has.
    pub workspace_document: String,
    /// Whether reminders also arrive as system notifications (once the browser allows them).
    pub system_reminders: bool,
}

impl Default for Settings {
    fn default() -> Self {
        let [a, b] = random_bytes::<2>();
        Settings {
            user_name: String::new(),
            team: String::new(),
            workspace: String::new(),
            signed_in_as: String::new(),
            token_checked: false,
            bound_in_development: false,
            device_prefix: DevicePrefix::from_random(u16::from_be_bytes([a, b])).to_string(),
            last_sequence: 0,
            theme: Theme::System,
            relay_url: String::new(),
            token: String::new(),
            development_token: false,
            role: String::new(),
            groups: Vec::new(),
            prefix_confirmed: false,
            workspace_document: String::new(),
            system_reminders: false,
        }
    }
}

impl Settings {
    /// The saved settings of the sign-in in use, or new ones (with a random device prefix) on
    /// first use.
    pub fn load() -> Settings {
        LocalStorage::get::<Settings>(Self::key()).unwrap_or_else(|_| {
            let fresh = Settings::default();
            let _ = fresh.save();
            fresh
        })
    }

    /// The saved settings of the sign-in `account`, if it has any.
    pub fn load_of(account: &str) -> Option<Settings> {
        LocalStorage::get::<Settings>(crate::accounts::settings_key(account)).ok()
    }

    fn key() -> String {
        crate::accounts::settings_key(&crate::accounts::active())
    }

    /// Saves the settings of the sign-in in use.
    pub fn save(&self) -> Result<(), String> {
        self.save_as(&crate::accounts::active())
    }

    /// Saves these settings as the sign-in `account`'s (a device joining by invitation).
    pub fn save_as(&self, account: &str) -> Result<(), String> {
        LocalStorage::set(crate::accounts::settings_key(account), self)
            .map_err(|e| format!("Settings could not be saved on this device ({e})."))
    }

    /// Who this sign-in is, as a sentence for the settings page.
    pub fn sign_in_text(&self) -> String {
        match (self.signed_in_as.as_str(), self.workspace.as_str()) {
            (_, workspace) if self.bound_in_development && !workspace.is_empty() => format!(
                "Signed in to workspace {workspace} with a development sign-in from a relay on this machine."
            ),
            ("", _) => "Not signed in yet: the relay has not confirmed who this device signs in as.".to_string(),
            (user, workspace) => format!("Signed in as {user} to workspace {workspace}."),
        }
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
