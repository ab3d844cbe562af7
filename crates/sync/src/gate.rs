//! The gate every change a peer sends passes before the relay keeps it.
//!
//! The hub knows nothing about what documents mean. It takes a [`Judge`] and, for each change in
//! a sync message, hands it the document **as the change's author saw it** (the document at the
//! change's dependencies) and the document with the change applied. What the judge refuses is
//! never applied, so it is not stored, not forwarded and not acknowledged; every change that
//! builds on a refused one is refused with it.
//!
//! Automerge's sync would ask a peer again and again for a change it is missing. A refused change
//! is one the relay must never ask for, so the gate rewrites the heads a peer reports before the
//! sync state sees them: heads the relay now has are kept; refused ones are dropped; and for a
//! change whose dependencies have not arrived (it is dropped, never queued unjudged), the gate
//! reports those missing dependencies instead, so the relay asks for them first and then for
//! the change itself.

use std::collections::HashMap;

use automerge::sync;
use automerge::{Automerge, Change, ChangeHash, ReadDoc};

use crate::hub::Grant;
use crate::DocumentId;

/// Decides whether a peer's change may be kept.
pub trait Judge: Send {
    /// Whether `grant` may add `change`, which takes `doc` from the heads `before` (the
    /// change's dependencies: the document as its author saw it) to the heads `after` (the
    /// change itself). `doc` holds both, and may hold more (read it at those heads). A refusal
    /// is a reason a person can read.
    fn judge(
        &mut self,
        grant: &Grant,
        id: &DocumentId,
        doc: &Automerge,
        before: &[ChangeHash],
        after: &[ChangeHash],
        change: &Change,
    ) -> Result<(), String>;

    /// Who may read `doc`: `None` for everyone in its workspace, or the groups that alone may.
    /// The hub asks after every stored change and when it loads a document.
    fn readers(&mut self, doc: &Automerge) -> Option<Vec<String>> {
        let _ = doc;
        None
    }

    /// Whether this judge refuses anything. One that does not lets changes through untouched,
    /// with none of the copies judging needs (the baseline the benchmark compares against).
    fn judges(&self) -> bool {
        true
    }
}

/// A judge that keeps everything: the relay of a single trusted team, and the protocol tests.
#[derive(Clone, Copy, Debug, Default)]
pub struct AdmitAll;

impl Judge for AdmitAll {
    fn judge(
        &mut self,
        _: &Grant,
        _: &DocumentId,
        _: &Automerge,
        _: &[ChangeHash],
        _: &[ChangeHash],
        _: &Change,
    ) -> Result<(), String> {
        Ok(())
    }

    fn judges(&self) -> bool {
        false
    }
}

/// Changes refused in one sync message, for telling the peer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refused {
    /// Every refused change, the ones that build on a refused change included.
    pub changes: Vec<ChangeHash>,
    /// Why the first of them was refused.
    pub reason: String,
}

/// What passing a message through the gate did.
#[derive(Debug, Default)]
pub struct Passage {
    /// Changes kept, in the order they were applied.
    pub accepted: Vec<ChangeHash>,
    /// Changes refused, if any.
    pub refused: Option<Refused>,
    /// Whether the message carried changes (the peer waits for an answer to those).
    pub carried_changes: bool,
}

/// Why building on a refused change is refused.
pub const BUILDS_ON_REFUSED: &str = "it builds on a change that was refused";

/// The changes refused from one connection, each with its dependencies: what the relay must never
/// ask for again, and what the peer has beneath it.
pub type RefusedChanges = HashMap<ChangeHash, Vec<ChangeHash>>;

/// Applies the changes of `message` that `judge` admits to `doc`, leaves the message with no
/// changes and with heads the relay may safely ask for, and adds every refused change to
/// `refused` (the connection's memory of what it must never ask for again).
pub fn pass(
    id: &DocumentId,
    doc: &mut Automerge,
    message: &mut sync::Message,
    grant: &Grant,
    judge: &mut dyn Judge,
    refused: &mut RefusedChanges,
) -> Result<Passage, String> {
    let mut passage = Passage::default();
    if !judge.judges() {
        // Automerge applies the message itself, exactly as without a gate.
        return Ok(passage);
    }
    if message.changes.is_empty() {
        if message.heads.iter().any(|h| refused.contains_key(h)) {
            message.heads = in_step(doc, beneath_refused(&message.heads, refused));
        }
        return Ok(passage);
    }
    passage.carried_changes = true;
    let joined: Vec<u8> = message.changes.iter().flatten().copied().collect();
    message.changes = sync::ChunkList::empty();
    // Everything the message carries whose dependencies are here, applied to a copy: the only
    // way to read its changes, however the peer packed them. Nothing of it reaches `doc` unjudged.
    let mut all = Some(doc.clone());
    let scratch = all.as_mut().expect("just set");
    scratch
        .load_incremental(&joined)
        .map_err(|e| format!("the changes could not be read ({e})"))?;
    let heads = doc.get_heads();
    let new = scratch.get_changes(&heads);
    let mut reasons = Vec::new();
    // Every change is judged on the scratch copy at its own heads: no further copies, and a
    // change made concurrently with what the relay has is still judged as its author saw it.
    for change in &new {
        let hash = change.hash();
        if change.deps().iter().any(|d| refused.contains_key(d)) {
            refused.insert(hash, change.deps().to_vec());
            reasons.push((hash, BUILDS_ON_REFUSED.to_string()));
            continue;
        }
        match judge.judge(grant, id, scratch, change.deps(), &[hash], change) {
            Ok(()) => passage.accepted.push(hash),
            Err(reason) => {
                refused.insert(hash, change.deps().to_vec());
                reasons.push((hash, reason));
            }
        }
    }
    if !passage.accepted.is_empty() {
        if reasons.is_empty() && scratch.get_missing_deps(&[]).is_empty() {
            // Everything was kept and nothing waits in its queue: it is exactly what to keep.
            *doc = all.take().expect("still there");
        } else {
            let kept: Vec<Change> = new
                .iter()
                .filter(|c| passage.accepted.contains(&c.hash()))
                .cloned()
                .collect();
            doc.apply_changes(kept)
                .map_err(|e| format!("the changes could not be applied ({e})"))?;
        }
    }
    let lookup = all.as_ref().unwrap_or(doc);
    let mut kept = Vec::new();
    for head in beneath_refused(&message.heads, refused) {
        if doc.get_change_by_hash(&head).is_some() {
            kept.push(head);
            continue;
        }
        let missing = lookup.get_missing_deps(&[head]);
        if missing.iter().any(|m| refused.contains_key(m)) {
            // It waits on a refused change: refused with it, and never asked for.
            kept.extend(beneath_refused(&missing, refused));
            refused.insert(head, missing);
            reasons.push((head, BUILDS_ON_REFUSED.to_string()));
        } else {
            kept.extend(missing);
        }
    }
    kept.sort();
    kept.dedup();
    message.heads = in_step(doc, kept);
    if let Some((_, first)) = reasons.first() {
        passage.refused = Some(Refused {
            reason: first.clone(),
            changes: reasons.iter().map(|(h, _)| *h).collect(),
        });
    }
    Ok(passage)
}

/// The heads a peer reports with every refused change replaced by what lies beneath it: the peer
/// certainly has those. (Dropping a refused head instead could leave no heads at all, which
/// Automerge's sync takes for a peer that lost its data, and answers by sending everything.)
fn beneath_refused(heads: &[ChangeHash], refused: &RefusedChanges) -> Vec<ChangeHash> {
    let mut out = Vec::new();
    let mut stack: Vec<ChangeHash> = heads.to_vec();
    let mut seen = std::collections::HashSet::new();
    while let Some(h) = stack.pop() {
        if !seen.insert(h) {
            continue;
        }
        match refused.get(&h) {
            Some(deps) => stack.extend(deps.iter().copied()),
            None if !out.contains(&h) => out.push(h),
            None => {}
        }
    }
    out.sort();
    out
}

/// What lies beneath refused changes can include ancestors of other heads; Automerge's sync never
/// goes quiet while the heads differ. Every head the relay has is beneath its own heads, so when
/// the reported heads include all of the relay's, the peer holds exactly what the relay holds.
fn in_step(doc: &Automerge, mut heads: Vec<ChangeHash>) -> Vec<ChangeHash> {
    let ours = doc.get_heads();
    if ours.iter().all(|h| heads.contains(h))
        && heads.iter().all(|h| doc.get_change_by_hash(h).is_some())
    {
        return ours;
    }
    heads.sort();
    heads
}

/// The `type` of the ephemeral message that tells a peer its changes were refused.
pub const REFUSED_TYPE: &str = "outpost/refused";

/// The ephemeral payload telling a peer about refused changes: CBOR
/// `{ type: "outpost/refused", reason: "...", changes: ["<hex hash>", ...] }`.
pub fn refusal_data(refused: &Refused) -> Vec<u8> {
    use ciborium::Value;
    let changes = refused
        .changes
        .iter()
        .map(|h| Value::Text(h.to_string()))
        .collect();
    let value = Value::Map(vec![
        (Value::Text("type".into()), Value::Text(REFUSED_TYPE.into())),
        (
            Value::Text("reason".into()),
            Value::Text(refused.reason.clone()),
        ),
        (Value::Text("changes".into()), Value::Array(changes)),
    ]);
    let mut out = Vec::new();
    ciborium::into_writer(&value, &mut out).expect("writing to a Vec cannot fail");
    out
}

/// Reads a refusal sent by [`refusal_data`]; `None` for any other ephemeral payload.
pub fn read_refusal(data: &[u8]) -> Option<Refused> {
    use ciborium::Value;
    let Value::Map(entries) = ciborium::from_reader::<Value, _>(data).ok()? else {
        return None;
    };
    let field = |name: &str| {
        entries
            .iter()
            .find(|(k, _)| k.as_text() == Some(name))
            .map(|(_, v)| v)
    };
    if field("type")?.as_text()? != REFUSED_TYPE {
        return None;
    }
    let reason = field("reason")?.as_text()?.to_string();
    let changes = field("changes")?
        .as_array()?
        .iter()
        .filter_map(|v| v.as_text()?.parse().ok())
        .collect();
    Some(Refused { changes, reason })
}
