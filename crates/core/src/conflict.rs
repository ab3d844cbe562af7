//! Real conflicts: fields two people set to different values while apart.
//!
//! Automerge keeps every concurrent value of a field; it only picks a deterministic winner to
//! show. Outpost never lets that choice pass silently: [`find_conflicts`] lists every field that
//! holds more than one distinct value, and the `SettleConflict` command writes the value a person
//! picks, which supersedes all of them. Identical concurrent values (both set the impact to 1) are
//! not a conflict. Ordinary edits never settle a conflict by accident: an edit that writes the value
//! already shown is skipped.

use automerge::ReadDoc;
use serde::{Deserialize, Serialize};

use crate::field::{Field, FieldValue};
use crate::schema::read_field_values;

/// A field holding more than one value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The field.
    pub field: Field,
    /// Its distinct values, the one currently shown first.
    pub values: Vec<FieldValue>,
}

impl Conflict {
    /// The values as a person reads them.
    pub fn labels(&self) -> Vec<String> {
        self.values.iter().map(|v| self.field.display(v)).collect()
    }
}

/// Every conflicting field of a document, in field order.
pub fn find_conflicts<D: ReadDoc>(doc: &D) -> Vec<Conflict> {
    Field::ALL
        .iter()
        // Follows the priority: settling the impact or urgency records it afresh.
        .filter(|field| **field != Field::SlaDefinition)
        .filter_map(|field| {
            let values = read_field_values(doc, *field);
            (values.len() > 1).then_some(Conflict {
                field: *field,
                values,
            })
        })
        .collect()
}
