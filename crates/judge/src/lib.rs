//! # outpost-judge: Outpost's rules, held at the relay
//!
//! The relay's hub knows nothing about incidents; it takes a [`Judge`] and asks it about every
//! change a peer sends, with the document as the change's author saw it. This crate is that
//! judge for Outpost: it reads the role the peer's token carries and applies
//! [`outpost_core::admission`], the same rules and the same role table the app uses, so a plain
//! automerge-repo peer, a script or a tampered page is judged exactly like the app.
//!
//! Each workspace has one workspace document (its configuration and directory, see
//! [`outpost_core::workspace`]) at an id the relay chose for it ([`WorkspaceDocuments`]): only
//! its admins may change it, and only into a readable, valid configuration.
//!
//! Knowledge articles ([`outpost_core::knowledge`]) are judged by their own rules (drafts by
//! anyone who works incidents, publishing by managers), and no change may turn a document of
//! one kind into another.
//!
//! It also says who may read each document ([`outpost_core::access`]), and refuses a change
//! after which its author could no longer read the incident: restricting an incident to groups
//! one is not in would leave it with nobody able to lift the restriction but those groups, and
//! the author's own device out of step.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use automerge::{Automerge, Change, ChangeHash};
use outpost_core::access::Readers;
use outpost_core::admission;
use outpost_core::knowledge;
use outpost_core::workspace::admit_change;
use outpost_core::{Capability, Role};
use outpost_sync::gate::Judge;
use outpost_sync::hub::Grant;
use outpost_sync::DocumentId;

/// Each workspace's workspace-document id, shared between the relay's HTTP side (which hands
/// it out, choosing it on first use) and the judge on the hub thread.
#[derive(Clone, Debug, Default)]
pub struct WorkspaceDocuments(Arc<RwLock<HashMap<String, DocumentId>>>);

impl WorkspaceDocuments {
    /// The id of a workspace's document, if one was chosen.
    pub fn get(&self, workspace: &str) -> Option<DocumentId> {
        self.0.read().ok()?.get(workspace).copied()
    }

    /// Records a workspace's document id.
    pub fn insert(&self, workspace: &str, id: DocumentId) {
        if let Ok(mut map) = self.0.write() {
            map.insert(workspace.to_string(), id);
        }
    }
}

/// Judges incident documents, and each workspace's workspace document, by the role in each
/// connection's token.
#[derive(Clone, Debug, Default)]
pub struct IncidentJudge {
    workspaces: WorkspaceDocuments,
}

impl IncidentJudge {
    /// A judge that knows the workspaces' document ids.
    pub fn new(workspaces: WorkspaceDocuments) -> IncidentJudge {
        IncidentJudge { workspaces }
    }
}

impl Judge for IncidentJudge {
    fn judge(
        &mut self,
        grant: &Grant,
        id: &DocumentId,
        doc: &Automerge,
        before: &[ChangeHash],
        after: &[ChangeHash],
        _change: &Change,
    ) -> Result<(), String> {
        let role = role_of(grant)?;
        if knowledge::kind_changes(doc, before, after) {
            return Err("A document cannot change into another kind of document".into());
        }
        // An article stays one: a change that removes its marker is judged (and refused) as
        // an article, not let through as something no rule reads.
        if knowledge::claims(doc, Some(after))
            || (!before.is_empty() && knowledge::claims(doc, Some(before)))
        {
            return knowledge::admit(role, doc, before, after).map_err(|e| sentence(&e));
        }
        if self.workspaces.get(&grant.workspace) == Some(*id) {
            role.may_do(Capability::ConfigureWorkspace)
                .map_err(|refusal| sentence(&refusal.to_string()))?;
            return admit_change(doc, after).map_err(|refusal| {
                sentence(&format!(
                    "This change to the workspace was refused: {refusal}"
                ))
            });
        }
        // The diff between the gate's heads, not admission::admit_change (which reads the
        // change's own operations, twice as fast): the housekeeping test's stall (the automation
        // peer and the hub exchanging ~2,000 sync frames a second without an acknowledgement
        // until its 10 s timeout) was first seen with admit_change here. It was later seen with
        // admit too, so admit_change is probably not its cause; the judge keeps the long-proven
        // admit until the stall is understood.
        admission::admit(role, doc, before, after).map_err(|refusal| refusal.sentence())?;
        if Readers::at(doc, before).admit(&grant.groups)
            && !Readers::at(doc, after).admit(&grant.groups)
        {
            return Err(locked_out(doc, after));
        }
        Ok(())
    }

    fn readers(&mut self, doc: &Automerge) -> Option<Vec<String>> {
        Readers::of(doc).groups()
    }
}

fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The refusal of a restriction that would shut its author out.
fn locked_out(doc: &Automerge, after: &[ChangeHash]) -> String {
    let groups = Readers::at(doc, after).groups().unwrap_or_default();
    format!(
        "Restricting it to {} would leave you unable to read it (you are in none of those groups)",
        groups.join(", ")
    )
}

/// The role a grant carries. A token without one (issued before roles existed) is an agent's,
/// which is what every token could do then, short of closing.
pub fn role_of(grant: &Grant) -> Result<Role, String> {
    if grant.role.is_empty() {
        return Ok(Role::Agent);
    }
    Role::from_key(&grant.role).ok_or_else(|| {
        format!(
            "the sign-in names a role this relay does not know (\"{}\")",
            grant.role
        )
    })
}
