//! Reference numbers a device can allocate with no network: `INC-7F3A-0042`.
//!
//! A reference is the device's prefix plus that device's own counter, so two devices offline at
//! the same time never hand out the same number. The document id, not the reference, is an
//! incident's identity; the reference is what people say on the phone.
//!
//! The counter is kept on the device. If that store is wiped, [`next_sequence`] recovers by
//! continuing after the highest number this prefix has already used in the stored incidents.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The fixed leading part of every reference.
pub const REFERENCE_KIND: &str = "INC";

/// A device's reference prefix: 2 to 6 characters, `A`-`Z` and `0`-`9`, such as `7F3A`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DevicePrefix(String);

/// Why a prefix or reference was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// The prefix has the wrong length or characters.
    #[error("The device prefix must be 2 to 6 letters or digits (A-Z, 0-9), like 7F3A.")]
    BadPrefix,
    /// Not of the form `INC-<prefix>-<number>`.
    #[error("\"{0}\" is not a reference number like INC-7F3A-0042.")]
    BadReference(String),
}

impl DevicePrefix {
    /// Validates and upper-cases a prefix.
    pub fn new(prefix: &str) -> Result<Self, ReferenceError> {
        let p = prefix.trim().to_ascii_uppercase();
        let ok = (2..=6).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(DevicePrefix(p))
        } else {
            Err(ReferenceError::BadPrefix)
        }
    }

    /// A four-hex-digit prefix from random bits, for a device's first start.
    pub fn from_random(bits: u16) -> Self {
        DevicePrefix(format!("{bits:04X}"))
    }

    /// The prefix text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DevicePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DevicePrefix {
    type Error = ReferenceError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        DevicePrefix::new(&s)
    }
}

impl From<DevicePrefix> for String {
    fn from(p: DevicePrefix) -> String {
        p.0
    }
}

/// `INC-<prefix>-<sequence>`, the sequence zero-padded to at least four digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReferenceNumber {
    prefix: DevicePrefix,
    sequence: u32,
}

impl ReferenceNumber {
    /// A reference from its parts. Sequences start at 1.
    pub fn new(prefix: DevicePrefix, sequence: u32) -> Self {
        ReferenceNumber { prefix, sequence }
    }

    /// The device prefix.
    pub fn prefix(&self) -> &DevicePrefix {
        &self.prefix
    }

    /// The per-device sequence number.
    pub fn sequence(&self) -> u32 {
        self.sequence
    }
}

impl fmt::Display for ReferenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{REFERENCE_KIND}-{}-{:04}", self.prefix, self.sequence)
    }
}

impl FromStr for ReferenceNumber {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ReferenceError::BadReference(s.to_string());
        let mut parts = s.trim().split('-');
        let (Some(kind), Some(prefix), Some(seq), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        if !kind.eq_ignore_ascii_case(REFERENCE_KIND) || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let prefix = DevicePrefix::new(prefix).map_err(|_| bad())?;
        let sequence = seq.parse::<u32>().map_err(|_| bad())?;
        if sequence == 0 {
            return Err(bad());
        }
        Ok(ReferenceNumber { prefix, sequence })
    }
}

impl TryFrom<String> for ReferenceNumber {
    type Error = ReferenceError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ReferenceNumber> for String {
    fn from(r: ReferenceNumber) -> String {
        r.to_string()
    }
}

/// The next sequence number for `prefix`: one past both the stored counter and every number this
/// prefix already used among `existing` references, so a wiped counter never repeats a number.
pub fn next_sequence<'a>(
    prefix: &DevicePrefix,
    stored_counter: u32,
    existing: impl IntoIterator<Item = &'a ReferenceNumber>,
) -> u32 {
    let highest_used = existing
        .into_iter()
        .filter(|r| &r.prefix == prefix)
        .map(|r| r.sequence)
        .max()
        .unwrap_or(0);
    stored_counter.max(highest_used).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_like_the_design_example() {
        let r = ReferenceNumber::new(DevicePrefix::new("7f3a").unwrap(), 42);
        assert_eq!(r.to_string(), "INC-7F3A-0042");
        assert_eq!("INC-7F3A-0042".parse::<ReferenceNumber>().unwrap(), r);
        let big = ReferenceNumber::new(DevicePrefix::new("AB").unwrap(), 123_456);
        assert_eq!(big.to_string(), "INC-AB-123456");
        assert_eq!(big.to_string().parse::<ReferenceNumber>().unwrap(), big);
    }

    #[test]
    fn refuses_malformed_prefixes_and_references() {
        for p in ["", "A", "TOOLONG7", "7F-3", "ÄB"] {
            assert_eq!(
                DevicePrefix::new(p),
                Err(ReferenceError::BadPrefix),
                "{p:?}"
            );
        }
        for r in [
            "INC-7F3A",
            "CHG-7F3A-0001",
            "INC-7F3A-00x1",
            "INC-7F3A-0000",
            "INC-7F3A-1-2",
        ] {
            assert!(r.parse::<ReferenceNumber>().is_err(), "{r:?}");
        }
    }

    #[test]
    fn next_sequence_survives_a_wiped_counter_and_ignores_other_devices() {
        let me = DevicePrefix::new("7F3A").unwrap();
        let other = DevicePrefix::new("B00C").unwrap();
        let existing = [
            ReferenceNumber::new(me.clone(), 41),
            ReferenceNumber::new(other.clone(), 900),
        ];
        assert_eq!(next_sequence(&me, 0, &existing), 42);
        assert_eq!(next_sequence(&me, 50, &existing), 51);
        assert_eq!(next_sequence(&other, 0, &existing), 901);
        assert_eq!(next_sequence(&me, 0, &[]), 1);
    }
}
