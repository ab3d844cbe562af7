//! The automerge-repo wire protocol "1": one CBOR map per WebSocket binary frame.
//!
//! Decoding is tolerant of what the JavaScript implementation (cbor-x) writes: non-minimal map
//! headers, integers above 32 bits as float64, `undefined`, unknown keys, and document ids as
//! strings or raw bytes. It is strict about what the protocol requires: a missing or mistyped
//! field is a [`WireError`] naming the field, never a panic.
//!
//! Outpost adds one message, `outpost-reconcile`, sent only between peers that both advertise
//! the `outpost` key in their `peerMetadata` (see [`crate::reconcile`]); plain automerge-repo
//! peers never see it.

use std::collections::BTreeMap;

use ciborium::Value;

use crate::document_id::DocumentId;

/// The only protocol version there is.
pub const PROTOCOL_V1: &str = "1";
/// The message type of Outpost's catalog reconciliation.
pub const RECONCILE_TYPE: &str = "outpost-reconcile";
/// The `peerMetadata` key that advertises Outpost's extensions.
pub const OUTPOST_KEY: &str = "outpost";
/// The version of the catalog reconciliation extension.
pub const RECONCILE_VERSION: u64 = 1;

/// A peer's id: any non-empty string.
pub type PeerId = String;

/// What a peer says about itself in `join` and `peer`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerMetadata {
    /// The peer's storage id, if it stores documents.
    pub storage_id: Option<String>,
    /// Whether the peer keeps nothing.
    pub is_ephemeral: Option<bool>,
    /// Outpost's catalog reconciliation version, when the peer supports it.
    pub outpost_reconcile: Option<u64>,
}

/// A peer's heads of one document, in `remote-heads-changed`.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteHeads {
    /// bs58check-encoded change hashes.
    pub heads: Vec<String>,
    /// When, in milliseconds.
    pub timestamp: f64,
}

/// One protocol message.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// Client → server, first frame.
    Join {
        /// The client.
        sender_id: PeerId,
        /// What it says about itself.
        peer_metadata: PeerMetadata,
        /// Versions it speaks; absent means "1".
        supported_protocol_versions: Option<Vec<String>>,
    },
    /// Server → client, answering `join`.
    Peer {
        /// The server.
        sender_id: PeerId,
        /// The client.
        target_id: PeerId,
        /// What the server says about itself.
        peer_metadata: PeerMetadata,
        /// Always "1".
        selected_protocol_version: String,
    },
    /// A refusal; the sender closes the connection after it.
    Error {
        /// Who refused, if it said.
        sender_id: Option<PeerId>,
        /// Who is refused, if it said.
        target_id: Option<PeerId>,
        /// Why.
        message: String,
    },
    /// Advisory: the sender is going away.
    Leave {
        /// The peer leaving.
        sender_id: PeerId,
    },
    /// First sync message from a peer that has no copy of the document.
    Request {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The document.
        document_id: DocumentId,
        /// An Automerge sync message.
        data: Vec<u8>,
    },
    /// An Automerge sync message.
    Sync {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The document.
        document_id: DocumentId,
        /// An Automerge sync message.
        data: Vec<u8>,
    },
    /// The sender does not have the document (or may not share it).
    DocUnavailable {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The document.
        document_id: DocumentId,
    },
    /// An application payload about a document, never stored.
    Ephemeral {
        /// The original sender (kept when forwarded).
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The document.
        document_id: DocumentId,
        /// Opaque payload.
        data: Vec<u8>,
        /// Per-session counter for de-duplication.
        count: u64,
        /// The sender's session.
        session_id: String,
    },
    /// Subscribe to or unsubscribe from remote heads of storage ids.
    RemoteSubscriptionChange {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// Storage ids to add.
        add: Vec<String>,
        /// Storage ids to remove.
        remove: Vec<String>,
    },
    /// Heads of a document at other storage peers.
    RemoteHeadsChanged {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The document.
        document_id: DocumentId,
        /// By storage id.
        new_heads: BTreeMap<String, RemoteHeads>,
    },
    /// Outpost's catalog reconciliation (negentropy) round.
    Reconcile {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// A negentropy message.
        data: Vec<u8>,
    },
}

impl Message {
    /// A document's sync data: a `request` if the sender lacks the document (automerge-repo's
    /// first message for it), a `sync` otherwise.
    pub fn sync_data(
        request: bool,
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
        data: Vec<u8>,
    ) -> Message {
        if request {
            Message::Request {
                sender_id,
                target_id,
                document_id,
                data,
            }
        } else {
            Message::Sync {
                sender_id,
                target_id,
                document_id,
                data,
            }
        }
    }

    /// The message's `type` string.
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::Join { .. } => "join",
            Message::Peer { .. } => "peer",
            Message::Error { .. } => "error",
            Message::Leave { .. } => "leave",
            Message::Request { .. } => "request",
            Message::Sync { .. } => "sync",
            Message::DocUnavailable { .. } => "doc-unavailable",
            Message::Ephemeral { .. } => "ephemeral",
            Message::RemoteSubscriptionChange { .. } => "remote-subscription-change",
            Message::RemoteHeadsChanged { .. } => "remote-heads-changed",
            Message::Reconcile { .. } => RECONCILE_TYPE,
        }
    }

    /// The sender, when the message names one.
    pub fn sender(&self) -> Option<&str> {
        match self {
            Message::Join { sender_id, .. }
            | Message::Peer { sender_id, .. }
            | Message::Leave { sender_id }
            | Message::Request { sender_id, .. }
            | Message::Sync { sender_id, .. }
            | Message::DocUnavailable { sender_id, .. }
            | Message::Ephemeral { sender_id, .. }
            | Message::RemoteSubscriptionChange { sender_id, .. }
            | Message::RemoteHeadsChanged { sender_id, .. }
            | Message::Reconcile { sender_id, .. } => Some(sender_id),
            Message::Error { sender_id, .. } => sender_id.as_deref(),
        }
    }

    /// The recipient, when the message names one.
    pub fn target(&self) -> Option<&str> {
        match self {
            Message::Peer { target_id, .. }
            | Message::Request { target_id, .. }
            | Message::Sync { target_id, .. }
            | Message::DocUnavailable { target_id, .. }
            | Message::Ephemeral { target_id, .. }
            | Message::RemoteSubscriptionChange { target_id, .. }
            | Message::RemoteHeadsChanged { target_id, .. }
            | Message::Reconcile { target_id, .. } => Some(target_id),
            Message::Error { target_id, .. } => target_id.as_deref(),
            Message::Join { .. } | Message::Leave { .. } => None,
        }
    }

    /// The document the message is about, if any.
    pub fn document_id(&self) -> Option<DocumentId> {
        match self {
            Message::Request { document_id, .. }
            | Message::Sync { document_id, .. }
            | Message::DocUnavailable { document_id, .. }
            | Message::Ephemeral { document_id, .. }
            | Message::RemoteHeadsChanged { document_id, .. } => Some(*document_id),
            _ => None,
        }
    }
}

/// Why a frame is not a valid message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Not CBOR at all.
    #[error("the frame is not valid CBOR ({0})")]
    NotCbor(String),
    /// CBOR, but not a map.
    #[error("a message must be a CBOR map")]
    NotAMap,
    /// A required field is absent.
    #[error("the {kind} message has no `{field}`")]
    Missing {
        /// The message type.
        kind: String,
        /// The field.
        field: &'static str,
    },
    /// A field has the wrong type or an unusable value.
    #[error("the {kind} message's `{field}` is not {expected}")]
    Invalid {
        /// The message type.
        kind: String,
        /// The field.
        field: &'static str,
        /// What it should be.
        expected: &'static str,
    },
    /// An unknown `type`.
    #[error("unknown message type `{0}`")]
    UnknownType(String),
}

// ---------- decoding ----------

struct Fields<'a> {
    kind: String,
    map: &'a [(Value, Value)],
}

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.iter().find_map(|(k, v)| match k {
            Value::Text(t) if t == key => match v {
                Value::Null => None, // null and undefined both mean "absent"
                other => Some(other),
            },
            _ => None,
        })
    }

    fn invalid(&self, field: &'static str, expected: &'static str) -> WireError {
        WireError::Invalid {
            kind: self.kind.clone(),
            field,
            expected,
        }
    }

    fn missing(&self, field: &'static str) -> WireError {
        WireError::Missing {
            kind: self.kind.clone(),
            field,
        }
    }

    fn opt_text(&self, field: &'static str) -> Result<Option<String>, WireError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Text(t)) => Ok(Some(t.clone())),
            Some(_) => Err(self.invalid(field, "text")),
        }
    }

    fn text(&self, field: &'static str) -> Result<String, WireError> {
        self.opt_text(field)?.ok_or_else(|| self.missing(field))
    }

    fn peer(&self, field: &'static str) -> Result<PeerId, WireError> {
        let id = self.text(field)?;
        if id.is_empty() || id.len() > 256 {
            return Err(self.invalid(field, "a peer id of 1 to 256 characters"));
        }
        Ok(id)
    }

    fn bytes(&self, field: &'static str) -> Result<Vec<u8>, WireError> {
        match self.get(field) {
            None => Err(self.missing(field)),
            Some(Value::Bytes(b)) if b.is_empty() => Err(self.invalid(field, "non-empty bytes")),
            Some(Value::Bytes(b)) => Ok(b.clone()),
            Some(_) => Err(self.invalid(field, "bytes")),
        }
    }

    fn document_id(&self) -> Result<DocumentId, WireError> {
        match self.get("documentId") {
            None => Err(self.missing("documentId")),
            Some(Value::Text(t)) => t
                .parse()
                .map_err(|_| self.invalid("documentId", "a document id")),
            Some(Value::Bytes(b)) => <[u8; 16]>::try_from(b.as_slice())
                .map(DocumentId::from_bytes)
                .map_err(|_| self.invalid("documentId", "a 16-byte document id")),
            Some(_) => Err(self.invalid("documentId", "a document id")),
        }
    }

    fn count(&self, field: &'static str) -> Result<u64, WireError> {
        match self.get(field) {
            None => Err(self.missing(field)),
            Some(v) => number(v).ok_or_else(|| self.invalid(field, "a whole number")),
        }
    }

    fn texts(&self, field: &'static str) -> Result<Option<Vec<String>>, WireError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Text(t) => Ok(t.clone()),
                    _ => Err(self.invalid(field, "a list of text")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(self.invalid(field, "a list of text")),
        }
    }

    fn metadata(&self) -> Result<PeerMetadata, WireError> {
        let Some(value) = self.get("peerMetadata") else {
            return Ok(PeerMetadata::default());
        };
        let Value::Map(map) = value else {
            return Err(self.invalid("peerMetadata", "a map"));
        };
        let inner = Fields {
            kind: self.kind.clone(),
            map,
        };
        let is_ephemeral = match inner.get("isEphemeral") {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(self.invalid("peerMetadata", "a map with a boolean isEphemeral")),
        };
        let outpost_reconcile = match inner.get(OUTPOST_KEY) {
            Some(Value::Map(m)) => Fields {
                kind: self.kind.clone(),
                map: m,
            }
            .get("reconcile")
            .and_then(number),
            _ => None,
        };
        Ok(PeerMetadata {
            storage_id: inner.opt_text("storageId").unwrap_or(None),
            is_ephemeral,
            outpost_reconcile,
        })
    }
}

/// A whole number from an integer or an integral float (cbor-x writes large numbers as float64).
fn number(v: &Value) -> Option<u64> {
    match v {
        Value::Integer(i) => u64::try_from(i128::from(*i)).ok(),
        Value::Float(f) if f.fract() == 0.0 && *f >= 0.0 && *f <= 9.007_199_254_740_991e15 => {
            Some(*f as u64)
        }
        _ => None,
    }
}

/// Decodes one frame.
pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    let value: Value =
        ciborium::from_reader(bytes).map_err(|e| WireError::NotCbor(e.to_string()))?;
    let Value::Map(map) = &value else {
        return Err(WireError::NotAMap);
    };
    let kind = match map
        .iter()
        .find(|(k, _)| matches!(k, Value::Text(t) if t == "type"))
    {
        Some((_, Value::Text(t))) => t.clone(),
        Some(_) => {
            return Err(WireError::Invalid {
                kind: "?".into(),
                field: "type",
                expected: "text",
            })
        }
        None => {
            return Err(WireError::Missing {
                kind: "?".into(),
                field: "type",
            })
        }
    };
    let f = Fields {
        kind: kind.clone(),
        map,
    };
    Ok(match kind.as_str() {
        "join" => Message::Join {
            sender_id: f.peer("senderId")?,
            peer_metadata: f.metadata()?,
            supported_protocol_versions: f.texts("supportedProtocolVersions")?,
        },
        "peer" => Message::Peer {
            sender_id: f.peer("senderId")?,
            target_id: f.peer("targetId")?,
            peer_metadata: f.metadata()?,
            selected_protocol_version: f
                .opt_text("selectedProtocolVersion")?
                .unwrap_or_else(|| PROTOCOL_V1.into()),
        },
        "error" => Message::Error {
            sender_id: f.opt_text("senderId")?,
            target_id: f.opt_text("targetId")?,
            message: f.opt_text("message")?.unwrap_or_default(),
        },
        "leave" => Message::Leave {
            sender_id: f.peer("senderId")?,
        },
        "request" | "sync" => Message::sync_data(
            kind == "request",
            f.peer("senderId")?,
            f.peer("targetId")?,
            f.document_id()?,
            f.bytes("data")?,
        ),
        "doc-unavailable" => Message::DocUnavailable {
            sender_id: f.peer("senderId")?,
            target_id: f.peer("targetId")?,
            document_id: f.document_id()?,
        },
        "ephemeral" => Message::Ephemeral {
            sender_id: f.peer("senderId")?,
            target_id: f.peer("targetId")?,
            document_id: f.document_id()?,
            data: f.bytes("data")?,
            count: f.count("count")?,
            session_id: f.text("sessionId")?,
        },
        "remote-subscription-change" => Message::RemoteSubscriptionChange {
            sender_id: f.peer("senderId")?,
            target_id: f.peer("targetId")?,
            add: f.texts("add")?.unwrap_or_default(),
            remove: f.texts("remove")?.unwrap_or_default(),
        },
        "remote-heads-changed" => {
            let mut new_heads = BTreeMap::new();
            if let Some(Value::Map(entries)) = f.get("newHeads") {
                for (k, v) in entries {
                    let (Value::Text(storage), Value::Map(inner)) = (k, v) else {
                        return Err(f.invalid("newHeads", "a map of storage ids to heads"));
                    };
                    let inner = Fields {
                        kind: kind.clone(),
                        map: inner,
                    };
                    new_heads.insert(
                        storage.clone(),
                        RemoteHeads {
                            heads: inner.texts("heads")?.unwrap_or_default(),
                            timestamp: match inner.get("timestamp") {
                                Some(Value::Float(x)) if x.is_finite() => *x,
                                Some(Value::Float(_)) => {
                                    return Err(f.invalid("newHeads", "finite timestamps"))
                                }
                                Some(v) => number(v).map_or(0.0, |n| n as f64),
                                None => 0.0,
                            },
                        },
                    );
                }
            }
            Message::RemoteHeadsChanged {
                sender_id: f.peer("senderId")?,
                target_id: f.peer("targetId")?,
                document_id: f.document_id()?,
                new_heads,
            }
        }
        RECONCILE_TYPE => Message::Reconcile {
            sender_id: f.peer("senderId")?,
            target_id: f.peer("targetId")?,
            data: f.bytes("data")?,
        },
        _ => return Err(WireError::UnknownType(kind)),
    })
}

// ---------- encoding ----------

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn metadata(m: &PeerMetadata) -> Value {
    let mut entries = Vec::new();
    if let Some(s) = &m.storage_id {
        entries.push((text("storageId"), text(s)));
    }
    if let Some(e) = m.is_ephemeral {
        entries.push((text("isEphemeral"), Value::Bool(e)));
    }
    if let Some(v) = m.outpost_reconcile {
        entries.push((
            text(OUTPOST_KEY),
            Value::Map(vec![(text("reconcile"), Value::Integer(v.into()))]),
        ));
    }
    Value::Map(entries)
}

/// Encodes one message as a CBOR map.
pub fn encode(message: &Message) -> Vec<u8> {
    let mut m: Vec<(Value, Value)> = vec![(text("type"), text(message.type_name()))];
    let mut put = |k: &str, v: Value| m.push((text(k), v));
    match message {
        Message::Join {
            sender_id,
            peer_metadata,
            supported_protocol_versions,
        } => {
            put("senderId", text(sender_id));
            put("peerMetadata", metadata(peer_metadata));
            // Written as given: absent means "1" to the reader, so nothing is invented here.
            if let Some(versions) = supported_protocol_versions {
                put(
                    "supportedProtocolVersions",
                    Value::Array(versions.iter().map(|v| text(v)).collect()),
                );
            }
        }
        Message::Peer {
            sender_id,
            target_id,
            peer_metadata,
            selected_protocol_version,
        } => {
            put("senderId", text(sender_id));
            put("targetId", text(target_id));
            put("peerMetadata", metadata(peer_metadata));
            put("selectedProtocolVersion", text(selected_protocol_version));
        }
        Message::Error {
            sender_id,
            target_id,
            message,
        } => {
            if let Some(s) = sender_id {
                put("senderId", text(s));
            }
            if let Some(t) = target_id {
                put("targetId", text(t));
            }
            put("message", text(message));
        }
        Message::Leave { sender_id } => put("senderId", text(sender_id)),
        Message::Request {
            sender_id,
            target_id,
            document_id,
            data,
        }
        | Message::Sync {
            sender_id,
            target_id,
            document_id,
            data,
        } => {
            put("senderId", text(sender_id));
            put("targetId", text(target_id));
            put("documentId", text(&document_id.to_string()));
            put("data", Value::Bytes(data.clone()));
        }
        Message::DocUnavailable {
            sender_id,
            target_id,
            document_id,
        } => {
            put("senderId", text(sender_id));
            put("targetId", text(target_id));
            put("documentId", text(&document_id.to_string()));
        }
        Message::Ephemeral {
            sender_id,
            target_id,
            document_id,
            data,
            count,
            session_id,
        } => {
            put("senderId", text(sender_id));
            put("targetId", text(target_id));
            put("documentId", text(&document_id.to_string()));
            put("data", Value::Bytes(data.clone()));
            put("count", Value::Integer((*count).into()));
            put("sessionId", text(session_id));
        }
        Message::RemoteSubscriptionChange {
            sender_id,
            target_id,
            add,
            remove,
        } => {
            put("senderId", text(sender_id));
            put("targetId", text(target_id));
            put("add", Value::Array(add.iter().map(|s| text(s)).collect()));
            put(
                "remove",
                Value::Array(remove.iter().map(|s| text(s)).collect()),
            );
        }
        Message::RemoteHeadsChanged {
            sender_id,
            target_id,
            document_id,
            new_heads,
        } => {
            put("senderId", text(sender_id));
            put("targetId", text(target_id));
            put("documentId", text(&document_id.to_string()));
            let heads = new_heads
                .iter()
                .map(|(storage, h)| {
                    let entry = vec![
                        (
                            text("heads"),
                            Value::Array(h.heads.iter().map(|x| text(x)).collect()),
                        ),
                        (text("timestamp"), Value::Float(h.timestamp)),
                    ];
                    (text(storage), Value::Map(entry))
                })
                .collect();
            put("newHeads", Value::Map(heads));
        }
        Message::Reconcile {
            sender_id,
            target_id,
            data,
        } => {
            put("senderId", text(sender_id));
            put("targetId", text(target_id));
            put("data", Value::Bytes(data.clone()));
        }
    }
    let mut out = Vec::new();
    ciborium::into_writer(&Value::Map(m), &mut out).expect("writing CBOR to a Vec cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn decodes_the_cbor_x_test_vectors() {
        let join = hex("b900046474797065646a6f696e6873656e646572496468706565722d6162636c706565724d65746164617461b900026973746f726167654964782433663065316332612d303030302d343030302d383030302d3030303030303030303030316b6973457068656d6572616cf47819737570706f7274656450726f746f636f6c56657273696f6e73816131");
        assert_eq!(
            decode(&join).unwrap(),
            Message::Join {
                sender_id: "peer-abc".into(),
                peer_metadata: PeerMetadata {
                    storage_id: Some("3f0e1c2a-0000-4000-8000-000000000001".into()),
                    is_ephemeral: Some(false),
                    outpost_reconcile: None,
                },
                supported_protocol_versions: Some(vec!["1".into()]),
            }
        );
        let request = hex("b90005647479706567726571756573746873656e646572496468706565722d6162636874617267657449647073746f726167652d7365727665722d786a646f63756d656e744964781a7033753550684e3977724e7073474377666b656566324c7a4639646461746143420000");
        assert_eq!(
            decode(&request).unwrap(),
            Message::Request {
                sender_id: "peer-abc".into(),
                target_id: "storage-server-x".into(),
                document_id: DocumentId::from_bytes([1; 16]),
                data: vec![0x42, 0, 0],
            }
        );
    }

    #[test]
    fn every_message_round_trips() {
        let doc = DocumentId::from_bytes([9; 16]);
        let (s, t) = (String::from("a"), String::from("b"));
        let mut heads = BTreeMap::new();
        heads.insert(
            "store-1".to_string(),
            RemoteHeads {
                heads: vec!["h1".into()],
                timestamp: 1.7e12,
            },
        );
        let messages = vec![
            Message::Join {
                sender_id: s.clone(),
                peer_metadata: PeerMetadata {
                    storage_id: None,
                    is_ephemeral: Some(true),
                    outpost_reconcile: Some(1),
                },
                supported_protocol_versions: Some(vec!["1".into()]),
            },
            Message::Peer {
                sender_id: s.clone(),
                target_id: t.clone(),
                peer_metadata: PeerMetadata::default(),
                selected_protocol_version: "1".into(),
            },
            Message::Error {
                sender_id: Some(s.clone()),
                target_id: None,
                message: "no".into(),
            },
            Message::Leave {
                sender_id: s.clone(),
            },
            Message::Request {
                sender_id: s.clone(),
                target_id: t.clone(),
                document_id: doc,
                data: vec![0x42, 1],
            },
            Message::Sync {
                sender_id: s.clone(),
                target_id: t.clone(),
                document_id: doc,
                data: vec![0x43, 1],
            },
            Message::DocUnavailable {
                sender_id: s.clone(),
                target_id: t.clone(),
                document_id: doc,
            },
            Message::Ephemeral {
                sender_id: s.clone(),
                target_id: t.clone(),
                document_id: doc,
                data: vec![1],
                count: 5_000_000_000,
                session_id: "x".into(),
            },
            Message::RemoteSubscriptionChange {
                sender_id: s.clone(),
                target_id: t.clone(),
                add: vec!["p".into()],
                remove: vec![],
            },
            Message::RemoteHeadsChanged {
                sender_id: s.clone(),
                target_id: t.clone(),
                document_id: doc,
                new_heads: heads,
            },
            Message::Reconcile {
                sender_id: s.clone(),
                target_id: t.clone(),
                data: vec![0x61],
            },
        ];
        for m in messages {
            assert_eq!(decode(&encode(&m)).unwrap(), m, "{}", m.type_name());
        }
    }

    #[test]
    fn tolerates_float_integers_undefined_raw_ids_and_unknown_keys() {
        let doc = DocumentId::from_bytes([3; 16]);
        let frame = Value::Map(vec![
            (text("type"), text("ephemeral")),
            (text("senderId"), text("js")),
            (text("targetId"), text("relay")),
            (text("documentId"), Value::Bytes(doc.as_bytes().to_vec())),
            (text("data"), Value::Bytes(vec![1, 2])),
            (text("count"), Value::Float(6_000_000_000.0)),
            (text("sessionId"), text("s")),
            (text("somethingNew"), Value::Array(vec![])),
            (text("peerMetadata"), Value::Null),
        ]);
        let mut bytes = Vec::new();
        ciborium::into_writer(&frame, &mut bytes).unwrap();
        match decode(&bytes).unwrap() {
            Message::Ephemeral {
                document_id, count, ..
            } => assert_eq!((document_id, count), (doc, 6_000_000_000)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_join_without_versions_stays_without_versions() {
        // Found by the fuzzer: the encoder used to add ["1"], so a round trip changed the message.
        let join = Message::Join {
            sender_id: "a".into(),
            peer_metadata: PeerMetadata::default(),
            supported_protocol_versions: None,
        };
        assert_eq!(decode(&encode(&join)), Ok(join));
    }

    #[test]
    fn a_remote_heads_timestamp_must_be_a_number() {
        // Found by the fuzzer: NaN was accepted, and is not equal to itself.
        let heads = |ts: Value| {
            let mut b = Vec::new();
            let entry = Value::Map(vec![
                (text("heads"), Value::Array(vec![])),
                (text("timestamp"), ts),
            ]);
            let frame = Value::Map(vec![
                (text("type"), text("remote-heads-changed")),
                (text("senderId"), text("a")),
                (text("targetId"), text("b")),
                (text("documentId"), text("p3u5PhN9wrNpsGCwfkeef2LzF9")),
                (text("newHeads"), Value::Map(vec![(text("s"), entry)])),
            ]);
            ciborium::into_writer(&frame, &mut b).unwrap();
            decode(&b)
        };
        assert!(heads(Value::Float(1.5)).is_ok());
        for bad in [f64::NAN, f64::INFINITY] {
            assert!(matches!(
                heads(Value::Float(bad)),
                Err(WireError::Invalid {
                    field: "newHeads",
                    ..
                })
            ));
        }
    }

    #[test]
    fn malformed_frames_are_errors_that_name_the_problem() {
        assert!(matches!(
            decode(b"\xff\x00garbage"),
            Err(WireError::NotCbor(_))
        ));
        let mut arr = Vec::new();
        ciborium::into_writer(&Value::Array(vec![]), &mut arr).unwrap();
        assert_eq!(decode(&arr), Err(WireError::NotAMap));
        let frame = |entries: Vec<(Value, Value)>| {
            let mut b = Vec::new();
            ciborium::into_writer(&Value::Map(entries), &mut b).unwrap();
            b
        };
        assert_eq!(
            decode(&frame(vec![])),
            Err(WireError::Missing {
                kind: "?".into(),
                field: "type"
            })
        );
        assert_eq!(
            decode(&frame(vec![(text("type"), text("teleport"))])),
            Err(WireError::UnknownType("teleport".into()))
        );
        let no_data = frame(vec![
            (text("type"), text("sync")),
            (text("senderId"), text("a")),
            (text("targetId"), text("b")),
            (text("documentId"), text("p3u5PhN9wrNpsGCwfkeef2LzF9")),
        ]);
        assert_eq!(
            decode(&no_data).unwrap_err().to_string(),
            "the sync message has no `data`"
        );
        let empty = frame(vec![
            (text("type"), text("sync")),
            (text("senderId"), text("a")),
            (text("targetId"), text("b")),
            (text("documentId"), text("p3u5PhN9wrNpsGCwfkeef2LzF9")),
            (text("data"), Value::Bytes(vec![])),
        ]);
        assert!(matches!(
            decode(&empty),
            Err(WireError::Invalid { field: "data", .. })
        ));
        let bad_doc = frame(vec![
            (text("type"), text("doc-unavailable")),
            (text("senderId"), text("a")),
            (text("targetId"), text("b")),
            (text("documentId"), text("not-an-id")),
        ]);
        assert!(matches!(
            decode(&bad_doc),
            Err(WireError::Invalid {
                field: "documentId",
                ..
            })
        ));
    }
}
