//! The audit of one incident: every change with who its device says made it and when, beside
//! which token delivered it to the relay and when it arrived. Where the two people differ (a
//! shared phone, or a forgery), the report says so.

use automerge::Automerge;
use outpost_core::history::{audit_records, Event};
use outpost_core::IncidentDoc;
use outpost_sync::hub::HubStorage;
use outpost_sync::DocumentId;

use crate::storage::Storage;

/// One line of the audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The change (hex).
    pub change: String,
    /// Who the change says made it; `None` when it names nobody (written by another program).
    pub recorded_by: Option<String>,
    /// When on the author's device.
    pub device_time: String,
    /// Who delivered it, with role and device; empty if it arrived before the audit existed.
    pub delivered_by: Option<(String, String, String)>,
    /// When it reached the relay (RFC 3339).
    pub arrived_at: Option<String>,
}

impl Entry {
    /// Whether the delivering user is not the recorded author.
    pub fn differs(&self) -> bool {
        match (&self.delivered_by, &self.recorded_by) {
            (Some((user, _, _)), Some(author)) => user != author,
            _ => false,
        }
    }
}

fn rfc3339(seconds: i64) -> String {
    outpost_core::DeviceTime::from_millis(seconds.saturating_mul(1000)).to_string()
}

/// Finds an incident by document id (or `automerge:` URL) or by reference number.
fn find(storage: &mut Storage, what: &str) -> Result<(DocumentId, Automerge), String> {
    let what = what.trim();
    let load = |storage: &mut Storage, id: &DocumentId| -> Result<Option<Automerge>, String> {
        let Some((_, bytes)) = storage.load(id).map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        Automerge::load(&bytes)
            .map(Some)
            .map_err(|e| format!("the stored document {id} is damaged ({e})"))
    };
    let id = what
        .parse::<DocumentId>()
        .ok()
        .or_else(|| DocumentId::from_url(what).ok());
    if let Some(id) = id {
        return load(storage, &id)?
            .map(|doc| (id, doc))
            .ok_or_else(|| format!("no document {id} is stored here"));
    }
    let wanted = what.to_uppercase();
    for (id, _) in storage.documents().map_err(|e| e.to_string())? {
        let Some(doc) = load(storage, &id)? else {
            continue;
        };
        let reference = IncidentDoc::from_automerge(doc.clone())
            .and_then(|d| d.read())
            .map(|i| i.reference.to_string());
        if reference.as_deref() == Ok(wanted.as_str()) {
            return Ok((id, doc));
        }
    }
    Err(format!(
        "no incident {what} is stored here (give a reference number such as INC-7F3A-0042, or a document id)"
    ))
}

/// The audit of an incident, in history order.
pub fn entries(storage: &mut Storage, what: &str) -> Result<(DocumentId, Vec<Entry>), String> {
    let (id, doc) = find(storage, what)?;
    let arrivals = storage.arrivals(&id).map_err(|e| e.to_string())?;
    let entries = audit_records(&doc)
        .into_iter()
        .map(|record| {
            let arrival = arrivals
                .iter()
                .find(|a| a.change.to_string() == record.change);
            let attributed = !record.events.contains(&Event::Unrecognized);
            Entry {
                recorded_by: attributed.then_some(record.by),
                device_time: record.at.to_string(),
                delivered_by: arrival.map(|a| {
                    (
                        a.grant.user.clone(),
                        a.grant.role.clone(),
                        a.grant.device.clone(),
                    )
                }),
                arrived_at: arrival.map(|a| rfc3339(a.arrived_at)),
                change: record.change,
            }
        })
        .collect();
    Ok((id, entries))
}

/// The audit as text for the command line.
pub fn report(storage: &mut Storage, what: &str) -> Result<String, String> {
    let (id, entries) = entries(storage, what)?;
    let mut out = format!("Audit of {what} (document {id})\n");
    out.push_str(
        "change\tdevice time\trecorded author\tarrived at relay\tdelivered by (role, device)\n",
    );
    for e in &entries {
        let delivered = match &e.delivered_by {
            Some((user, role, device)) => format!("{user} ({role}, {device})"),
            None => "(before the audit)".to_string(),
        };
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}{}\n",
            &e.change[..12],
            e.device_time,
            e.recorded_by.as_deref().unwrap_or("(not recorded)"),
            e.arrived_at.as_deref().unwrap_or("-"),
            delivered,
            if e.differs() {
                "\tDELIVERED BY SOMEONE ELSE"
            } else {
                ""
            }
        ));
    }
    Ok(out)
}
