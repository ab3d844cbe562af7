//! # outpost-judge: Outpost's rules, held at the relay
//!
//! The relay's hub knows nothing about incidents; it takes a [`Judge`] and asks it about every
//! change a peer sends, with the document as the change's author saw it. This crate is that
//! judge for Outpost: it reads the role the peer's token carries and applies
//! [`outpost_core::admission`], the same rules and the same role table the app uses, so a plain
//! automerge-repo peer, a script or a tampered page is judged exactly like the app.
//!
//! It also says who may read each document ([`outpost_core::access`]), and refuses a change
//! after which its author could no longer read the incident: restricting an incident to groups
//! one is not in would leave it with nobody able to lift the restriction but those groups, and
//! the author's own device out of step.

use automerge::{Automerge, Change, ChangeHash};
use outpost_core::access::Readers;
use outpost_core::admission::admit;
use outpost_core::Role;
use outpost_sync::gate::Judge;
use outpost_sync::hub::Grant;

/// Judges incident documents by the role in each connection's token.
#[derive(Clone, Copy, Debug, Default)]
pub struct IncidentJudge;

impl Judge for IncidentJudge {
    fn judge(
        &mut self,
        grant: &Grant,
        doc: &Automerge,
        before: &[ChangeHash],
        after: &[ChangeHash],
        _change: &Change,
    ) -> Result<(), String> {
        let role = role_of(grant)?;
        admit(role, doc, before, after).map_err(|refusal| refusal.sentence())?;
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
