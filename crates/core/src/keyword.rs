//! Keyword enums: closed vocabularies (detection source, hold reason, resolution code, ...) that are
//! stored in documents as short stable keys, shown to people as labels, and parsed back leniently.
//!
//! One macro gives every such enum the same behaviour: `key()` for storage and the wire, `label()`
//! for people, `ALL` for pickers, and serde as the key string.

/// A stored or submitted keyword that is not part of the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{value}\" is not a known {kind}")]
pub struct UnknownKeyword {
    /// Human name of the vocabulary, e.g. "detection source".
    pub kind: &'static str,
    /// The value that was not recognised.
    pub value: String,
}

/// Declares a keyword enum. Each variant is `Variant => ("stored_key", "Human label")`.
macro_rules! keyword_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($kind:literal) {
            $( $(#[$vmeta:meta])* $variant:ident => ($key:literal, $label:literal) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];

            /// The stable key stored in documents.
            pub fn key(self) -> &'static str {
                match self { $( $name::$variant => $key ),+ }
            }

            /// The label shown to people.
            pub fn label(self) -> &'static str {
                match self { $( $name::$variant => $label ),+ }
            }

            /// Parses a stored key; `None` when it is not part of the vocabulary.
            pub fn from_key(key: &str) -> Option<Self> {
                match key { $( $key => Some($name::$variant), )+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::keyword::UnknownKeyword;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::from_key(s).ok_or_else(|| $crate::keyword::UnknownKeyword {
                    kind: $kind,
                    value: s.to_string(),
                })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.key())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use keyword_enum;
