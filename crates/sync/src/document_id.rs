//! Document ids and `automerge:` URLs exactly as automerge-repo forms them.
//!
//! A document id is 16 random bytes (a UUID v4 in automerge-repo), written as bs58check: Bitcoin's
//! base58 alphabet with a four-byte double-SHA-256 checksum. A URL is `automerge:<id>`, optionally
//! followed by `#<heads>`, which this crate accepts and ignores.

use std::fmt;
use std::str::FromStr;

/// An automerge-repo document id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId([u8; 16]);

/// Why text is not a document id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentIdError {
    /// Not bs58check, or a bad checksum.
    #[error("\"{0}\" is not a document id (bad base58check encoding)")]
    Encoding(String),
    /// Decodes, but not to 16 bytes.
    #[error("\"{0}\" is not a document id (wrong length)")]
    Length(String),
    /// Not an `automerge:` URL.
    #[error("\"{0}\" is not an automerge: URL")]
    Url(String),
}

impl DocumentId {
    /// From the 16 bytes (callers supply the randomness).
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        DocumentId(bytes)
    }

    /// A new id from 16 random bytes, shaped as a UUID v4 like automerge-repo's.
    pub fn from_random(mut bytes: [u8; 16]) -> Self {
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        DocumentId(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// `automerge:<id>`.
    pub fn url(&self) -> String {
        format!("automerge:{self}")
    }

    /// Parses `automerge:<id>` (with or without `#heads`).
    pub fn from_url(url: &str) -> Result<Self, DocumentIdError> {
        let rest = url
            .strip_prefix("automerge:")
            .ok_or_else(|| DocumentIdError::Url(url.to_string()))?;
        let id = rest.split(['#', '/']).next().unwrap_or_default();
        id.parse()
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).with_check().into_string())
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({self})")
    }
}

impl FromStr for DocumentId {
    type Err = DocumentIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = bs58::decode(s)
            .with_check(None)
            .into_vec()
            .map_err(|_| DocumentIdError::Encoding(s.to_string()))?;
        let bytes: [u8; 16] = bytes
            .try_into()
            .map_err(|_| DocumentIdError::Length(s.to_string()))?;
        Ok(DocumentId(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_automerge_repo_test_vector() {
        let id = DocumentId::from_bytes([1; 16]);
        assert_eq!(id.to_string(), "p3u5PhN9wrNpsGCwfkeef2LzF9");
        assert_eq!(
            "p3u5PhN9wrNpsGCwfkeef2LzF9".parse::<DocumentId>().unwrap(),
            id
        );
        assert_eq!(id.url(), "automerge:p3u5PhN9wrNpsGCwfkeef2LzF9");
        assert_eq!(
            DocumentId::from_url("automerge:p3u5PhN9wrNpsGCwfkeef2LzF9#abc").unwrap(),
            id
        );
    }

    #[test]
    fn rejects_bad_checksums_lengths_and_urls() {
        assert!(matches!(
            "p3u5PhN9wrNpsGCwfkeef2LzF8".parse::<DocumentId>(),
            Err(DocumentIdError::Encoding(_))
        ));
        let short = bs58::encode([1u8; 8]).with_check().into_string();
        assert!(matches!(
            short.parse::<DocumentId>(),
            Err(DocumentIdError::Length(_))
        ));
        assert!(matches!(
            DocumentId::from_url("http://x"),
            Err(DocumentIdError::Url(_))
        ));
        assert!("0OIl".parse::<DocumentId>().is_err());
    }

    #[test]
    fn random_ids_are_uuid_v4_shaped() {
        let id = DocumentId::from_random([0xff; 16]);
        assert_eq!(id.as_bytes()[6] >> 4, 4);
        assert_eq!(id.as_bytes()[8] >> 6, 0b10);
    }
}
