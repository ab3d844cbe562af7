//! Workspace configuration: the rules an organisation sets once for everyone in a workspace.
//!
//! The priority matrix, SLA targets, business calendar, communication plan and category catalog
//! live here rather than in the UI, so every device (and every future server-side check) applies
//! the same rules online and offline. Defaults follow ITIL and the seed documents.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::calendar::{BusinessCalendar, CalendarError};
use crate::communication::{CommunicationPlan, CommunicationPlanError};
use crate::directory::same_name;
use crate::priority::{Priority, PriorityMatrix};
use crate::sla::{SlaPolicy, SlaPolicyError};
use crate::state::{ResolutionCode, StandardResolution};

/// A category and its subcategories.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// The category name, e.g. "Network".
    pub name: String,
    /// Its subcategories, e.g. "VPN"; empty means any subcategory text is accepted.
    pub subcategories: Vec<String>,
}

impl Category {
    fn new(name: &str, subcategories: &[&str]) -> Self {
        Category {
            name: name.to_string(),
            subcategories: subcategories.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// An affected service or configuration item.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Its name, e.g. "Email" or "vpn-gw-01".
    pub name: String,
    /// The assignment group that supports it, if any.
    #[serde(default)]
    pub group: String,
}

/// A resolution code of the workspace's catalog.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionCodeEntry {
    /// Its name, e.g. "Workaround provided".
    pub name: String,
    /// When to use it, shown beside it.
    #[serde(default)]
    pub description: String,
}

fn standard_resolution_codes() -> Vec<ResolutionCodeEntry> {
    StandardResolution::ALL
        .iter()
        .map(|c| ResolutionCodeEntry {
            name: c.label().to_string(),
            description: String::new(),
        })
        .collect()
}

/// What happens as an incident's resolution clock runs down.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationRule {
    /// The share of the resolution target used (1-100) at which the rule applies.
    pub at_percent: u32,
    /// Raise the escalation level one step.
    pub raise_level: bool,
    /// Tell the assignment group's manager.
    pub tell_manager: bool,
}

/// Everything a workspace configures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceConfig {
    /// Impact × urgency → priority.
    pub priority_matrix: PriorityMatrix,
    /// What P1 to P5 are called in this workspace ("Critical" … "Planning").
    pub priority_labels: [String; 5],
    /// Response and resolution targets.
    pub sla: SlaPolicy,
    /// The main business calendar: business-hours targets count in it unless they name another.
    pub calendar: BusinessCalendar,
    /// The workspace's other business calendars (a second office, a follow-the-sun desk),
    /// which SLA targets name ([`SlaTarget::business_calendar`](crate::sla::SlaTarget)).
    #[serde(default)]
    pub calendars: Vec<BusinessCalendar>,
    /// Update cadences and report obligations.
    pub communication: CommunicationPlan,
    /// The category catalog; empty accepts any category text.
    pub categories: Vec<Category>,
    /// The affected services and configuration items people pick from.
    pub services: Vec<Service>,
    /// The resolution codes people resolve with; empty accepts any code.
    #[serde(default = "standard_resolution_codes")]
    pub resolution_codes: Vec<ResolutionCodeEntry>,
    /// Days after which a Resolved incident closes by itself.
    pub auto_close_days: u32,
    /// Escalations as the resolution clock runs down, in order of `at_percent`.
    pub escalations: Vec<EscalationRule>,
    /// How alerts from monitoring become incidents.
    #[serde(default)]
    pub alerts: crate::alert::AlertMapping,
    /// How mail to the workspace's mailbox is classified.
    #[serde(default)]
    pub mail: crate::mail::MailRules,
}

impl Default for WorkspaceConfig {
    fn default() -> Self {
        WorkspaceConfig {
            priority_matrix: PriorityMatrix::itil(),
            priority_labels: Priority::ALL.map(|p| p.name().to_string()),
            sla: SlaPolicy::default(),
            calendar: BusinessCalendar::default(),
            calendars: Vec::new(),
            communication: CommunicationPlan::default(),
            categories: vec![
                Category::new("Inquiry / Help", &[]),
                Category::new(
                    "Software",
                    &["Email", "Operating system", "Application", "Licensing"],
                ),
                Category::new(
                    "Hardware",
                    &[
                        "Laptop",
                        "Desktop",
                        "Printer",
                        "Mobile device",
                        "Peripheral",
                        "Server",
                    ],
                ),
                Category::new(
                    "Network",
                    &["Connectivity", "VPN", "Wi-Fi", "DNS", "Firewall"],
                ),
                Category::new("Database", &["Availability", "Performance", "Backup"]),
                Category::new("Security", &["Access", "Malware", "Phishing", "Data loss"]),
                Category::new("Facilities", &["Power", "Cooling", "Cabling"]),
            ],
            services: Vec::new(),
            resolution_codes: standard_resolution_codes(),
            auto_close_days: 7,
            escalations: vec![EscalationRule {
                at_percent: 75,
                raise_level: true,
                tell_manager: true,
            }],
            alerts: crate::alert::AlertMapping::default(),
            mail: crate::mail::MailRules::default(),
        }
    }
}

/// Why a workspace configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The business calendar is unusable.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    /// An SLA target is unusable.
    #[error(transparent)]
    Sla(#[from] SlaPolicyError),
    /// A communication interval is unusable.
    #[error(transparent)]
    Communication(#[from] CommunicationPlanError),
    /// Two categories share a name.
    #[error("The category \"{0}\" is listed twice.")]
    DuplicateCategory(String),
    /// Two calendars share a name.
    #[error("The calendar \"{0}\" is listed twice.")]
    DuplicateCalendar(String),
    /// Two resolution codes share a name.
    #[error("The resolution code \"{0}\" is listed twice.")]
    DuplicateResolutionCode(String),
    /// A resolution code not in the catalog.
    #[error("\"{0}\" is not a resolution code in this workspace.")]
    UnknownResolutionCode(String),
    /// Two services share a name.
    #[error("The service \"{0}\" is listed twice.")]
    DuplicateService(String),
    /// A name is missing.
    #[error("Enter a name.")]
    NoName,
    /// A priority label is missing or used twice.
    #[error("{0}: each priority needs its own label.")]
    PriorityLabel(Priority),
    /// The auto-close delay is out of range.
    #[error("Resolved incidents close after 1 to 365 days.")]
    AutoClose,
    /// An escalation threshold is out of range.
    #[error("An escalation applies at 1% to 100% of the resolution target.")]
    EscalationPercent,
}

/// Why a category choice was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CategoryError {
    /// Not in the catalog.
    #[error("\"{0}\" is not a category in this workspace.")]
    UnknownCategory(String),
    /// Not a subcategory of the chosen category.
    #[error("\"{subcategory}\" is not a subcategory of {category}.")]
    UnknownSubcategory {
        /// The chosen category.
        category: String,
        /// The refused subcategory.
        subcategory: String,
    },
    /// A subcategory without a category.
    #[error("Choose a category before a subcategory.")]
    SubcategoryWithoutCategory,
}

/// The first name given twice (case and surrounding space ignored), or an empty name.
fn first_duplicate<'a>(
    names: impl Iterator<Item = &'a str>,
) -> Result<Option<String>, ConfigError> {
    let mut seen: Vec<String> = Vec::new();
    for name in names {
        let key = name.trim().to_lowercase();
        if key.is_empty() {
            return Err(ConfigError::NoName);
        }
        if seen.contains(&key) {
            return Ok(Some(name.trim().to_string()));
        }
        seen.push(key);
    }
    Ok(None)
}

impl WorkspaceConfig {
    /// What the workspace calls a priority: "P2 High".
    pub fn priority_label(&self, priority: Priority) -> String {
        format!(
            "{} {}",
            priority.code(),
            self.priority_labels[priority.index()]
        )
    }

    /// A fingerprint of the rules an incident's list entry is derived under: the matrix, the SLA
    /// targets, the calendar and the communication plan. List entries carry it, so a device can
    /// tell which entries a change of these rules left stale and derive them again; the catalog,
    /// labels and escalations are read when the list is drawn and do not count.
    pub fn list_rules(&self) -> u64 {
        let rules = (
            &self.priority_matrix,
            &self.sla,
            (&self.calendar, &self.calendars),
            &self.communication,
        );
        let bytes = serde_json::to_vec(&rules).expect("configuration is plain data");
        let digest = Sha256::digest(&bytes);
        let mut first = [0; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(first)
    }

    /// The business calendar of this name (case and surrounding space ignored); the main
    /// calendar for an empty name, its own name, or a name no calendar has any longer (a
    /// calendar removed while an incident's recorded definition still names it).
    pub fn calendar_named(&self, name: &str) -> &BusinessCalendar {
        if name.trim().is_empty() {
            return &self.calendar;
        }
        self.calendars
            .iter()
            .find(|c| same_name(&c.name, name))
            .unwrap_or(&self.calendar)
    }

    /// The priorities whose SLA targets count in the other calendar `name`.
    pub fn calendar_used_by(&self, name: &str) -> Vec<Priority> {
        Priority::ALL
            .into_iter()
            .filter(|p| {
                self.sla
                    .target(*p)
                    .business()
                    .is_some_and(|n| !n.trim().is_empty() && same_name(n, name))
            })
            .collect()
    }

    /// Checks every part of the configuration.
    ///
    /// An SLA target naming a calendar the workspace lacks is not refused here: concurrent
    /// edits can produce one (an admin removes a calendar while another points P3 at it), and
    /// it counts in the main calendar ([`WorkspaceConfig::calendar_named`]); the settings page
    /// refuses to make one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.calendar.validate()?;
        for calendar in &self.calendars {
            calendar.validate()?;
        }
        let calendars = std::iter::once(&self.calendar).chain(&self.calendars);
        if let Some(name) = first_duplicate(calendars.map(|c| c.name.as_str()))? {
            return Err(ConfigError::DuplicateCalendar(name));
        }
        self.sla.validate()?;
        self.communication.validate()?;
        if let Some(name) = first_duplicate(self.categories.iter().map(|c| c.name.as_str()))? {
            return Err(ConfigError::DuplicateCategory(name));
        }
        let codes = self.resolution_codes.iter().map(|c| c.name.as_str());
        if let Some(name) = first_duplicate(codes)? {
            return Err(ConfigError::DuplicateResolutionCode(name));
        }
        if let Some(name) = first_duplicate(self.services.iter().map(|s| s.name.as_str()))? {
            return Err(ConfigError::DuplicateService(name));
        }
        for p in Priority::ALL {
            let label = self.priority_labels[p.index()].trim().to_lowercase();
            let twice = Priority::ALL
                .iter()
                .any(|q| *q < p && self.priority_labels[q.index()].trim().to_lowercase() == label);
            if label.is_empty() || twice {
                return Err(ConfigError::PriorityLabel(p));
            }
        }
        if !(1..=365).contains(&self.auto_close_days) {
            return Err(ConfigError::AutoClose);
        }
        if self
            .escalations
            .iter()
            .any(|e| !(1..=100).contains(&e.at_percent))
        {
            return Err(ConfigError::EscalationPercent);
        }
        Ok(())
    }

    /// The codes the resolve form offers: the catalog's, or the standard codes when it lists
    /// none (an empty catalog accepts any code).
    pub fn offered_resolution_codes(&self) -> Vec<ResolutionCodeEntry> {
        if self.resolution_codes.is_empty() {
            standard_resolution_codes()
        } else {
            self.resolution_codes.clone()
        }
    }

    /// Checks a resolution code against the catalog and returns it in the catalog's spelling
    /// (an empty catalog accepts any code). Incidents resolved before a code was removed keep
    /// it; only new resolutions are checked.
    pub fn canonical_resolution_code(
        &self,
        code: &ResolutionCode,
    ) -> Result<ResolutionCode, ConfigError> {
        if self.resolution_codes.is_empty() {
            return Ok(code.clone());
        }
        self.resolution_codes
            .iter()
            .find(|c| same_name(&c.name, code.name()))
            .and_then(|c| ResolutionCode::named(&c.name))
            .ok_or_else(|| ConfigError::UnknownResolutionCode(code.name().to_string()))
    }

    /// Checks a category and subcategory against the catalog and returns them in the catalog's
    /// spelling. Empty strings mean "not set".
    pub fn canonical_category(
        &self,
        category: &str,
        subcategory: &str,
    ) -> Result<(String, String), CategoryError> {
        let (category, subcategory) = (category.trim(), subcategory.trim());
        if category.is_empty() {
            return if subcategory.is_empty() {
                Ok((String::new(), String::new()))
            } else {
                Err(CategoryError::SubcategoryWithoutCategory)
            };
        }
        if self.categories.is_empty() {
            return Ok((category.to_string(), subcategory.to_string()));
        }
        let found = self
            .categories
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(category))
            .ok_or_else(|| CategoryError::UnknownCategory(category.to_string()))?;
        if subcategory.is_empty() || found.subcategories.is_empty() {
            return Ok((found.name.clone(), subcategory.to_string()));
        }
        let sub = found
            .subcategories
            .iter()
            .find(|s| s.eq_ignore_ascii_case(subcategory))
            .ok_or_else(|| CategoryError::UnknownSubcategory {
                category: found.name.clone(),
                subcategory: subcategory.to_string(),
            })?;
        Ok((found.name.clone(), sub.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid_and_round_trips_as_json() {
        let cfg = WorkspaceConfig::default();
        assert_eq!(cfg.validate(), Ok(()));
        let json = serde_json::to_string(&cfg).unwrap();
        assert_eq!(serde_json::from_str::<WorkspaceConfig>(&json).unwrap(), cfg);
    }

    #[test]
    fn categories_are_checked_against_the_catalog() {
        let cfg = WorkspaceConfig::default();
        assert_eq!(
            cfg.canonical_category("network", "vpn"),
            Ok(("Network".to_string(), "VPN".to_string()))
        );
        assert_eq!(
            cfg.canonical_category("Inquiry / Help", "anything")
                .unwrap()
                .1,
            "anything"
        );
        assert_eq!(
            cfg.canonical_category("Plumbing", ""),
            Err(CategoryError::UnknownCategory("Plumbing".into()))
        );
        assert_eq!(
            cfg.canonical_category("Network", "Email")
                .unwrap_err()
                .to_string(),
            "\"Email\" is not a subcategory of Network."
        );
        assert_eq!(
            cfg.canonical_category("", "VPN"),
            Err(CategoryError::SubcategoryWithoutCategory)
        );
        assert_eq!(
            cfg.canonical_category(" ", ""),
            Ok((String::new(), String::new()))
        );
    }

    #[test]
    fn an_empty_catalog_accepts_free_text() {
        let cfg = WorkspaceConfig {
            categories: vec![],
            ..WorkspaceConfig::default()
        };
        assert_eq!(
            cfg.canonical_category("Plumbing", "Leak"),
            Ok(("Plumbing".into(), "Leak".into()))
        );
    }

    #[test]
    fn duplicate_categories_are_refused() {
        let mut cfg = WorkspaceConfig::default();
        cfg.categories.push(Category::new("network", &[]));
        assert_eq!(
            cfg.validate(),
            Err(ConfigError::DuplicateCategory("network".into()))
        );
    }
}
