//! Data in and out: the CSV export's escaping and columns, and the import's mapping, per-row
//! errors and idempotence, with incidents logged and worked through real commands.

mod common;

use std::collections::HashSet;

use common::{at, by, cfg, email_outage, reference};
use outpost_core::export::{columns, to_csv, to_json, ExportRow};
use outpost_core::import::{
    build, imported_key, plan, read_csv, recognise, Mapping, RowPlan, Target,
};
use outpost_core::summary::IncidentSummary;
use outpost_core::{
    Action, Command, DevicePrefix, IncidentDoc, NewIncident, ReferenceNumber, ResolutionCode,
    StandardResolution, State,
};

fn summary_of(doc: &IncidentDoc, n: u32) -> IncidentSummary {
    let cfg = cfg();
    doc.view(&cfg, at(600))
        .unwrap()
        .summary(&format!("doc-{n}"), &cfg, cfg.list_rules())
}

/// Three incidents with awkward titles, one resolved.
fn exported() -> Vec<IncidentSummary> {
    let cfg = cfg();
    let titles = [
        "Printer, 3rd floor \"HP-4\" jams",
        "VPN drops every hour",
        "=HYPERLINK(\"http://example.invalid\",\"click\")",
    ];
    titles
        .iter()
        .enumerate()
        .map(|(i, title)| {
            let n = u32::try_from(i).unwrap() + 1;
            let mut doc = IncidentDoc::create(
                &reference(n),
                &NewIncident {
                    title: (*title).into(),
                    ..email_outage()
                },
                &by("alice", 1),
                &cfg,
            )
            .unwrap();
            if n == 2 {
                for (m, cmd) in [
                    (5, Command::Transition(Action::StartWork)),
                    (
                        90,
                        Command::Transition(Action::Resolve {
                            code: Some(ResolutionCode::standard(
                                StandardResolution::SolutionProvided,
                            )),
                            notes: "Replaced the router.".into(),
                        }),
                    ),
                ] {
                    doc.execute(&cmd, &by("bob", m), &cfg).unwrap();
                }
            }
            summary_of(&doc, n)
        })
        .collect()
}

fn rows(items: &[IncidentSummary]) -> Vec<ExportRow> {
    let cfg = cfg();
    items
        .iter()
        .map(|s| ExportRow::of(s, at(600), &cfg.calendar))
        .collect()
}

#[test]
fn csv_export_quotes_what_rfc_4180_needs_and_defuses_formulas() {
    let mut rows = rows(&exported());
    // Titles are one line in Outpost; a line break can still come from elsewhere.
    rows[1].assignee = "Bob\nBrown".into();
    let csv = to_csv(&rows).unwrap();
    let mut lines = csv.split("\r\n");
    assert_eq!(lines.next().unwrap(), columns().join(","));
    assert!(
        csv.contains("\"Printer, 3rd floor \"\"HP-4\"\" jams\""),
        "commas and quotes are quoted, quotes doubled: {csv}"
    );
    assert!(
        csv.contains("\"Bob\nBrown\""),
        "a line break stays inside its quoted field"
    );
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://example.invalid\"\",\"\"click\"\")\""),
        "a formula is written as text: {csv}"
    );
    assert!(csv.ends_with("\r\n"));

    // Read back by an independent reader: three records of sixteen fields.
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|r| r.len() == 16));
    assert_eq!(&records[1][2], "Resolved");
    assert_eq!(&records[1][3], "P2");
    assert_eq!(&records[1][11], "2026-11-30T10:00:00Z", "resolved_at");
    assert_eq!(&records[1][14], "met", "resolution SLA");
    // The first is still New ten hours on: past both targets (30 min and 8 h).
    assert_eq!((&records[0][13], &records[0][14]), ("breached", "breached"));
}

#[test]
fn the_column_list_is_the_rows_fields_in_order() {
    let json = to_json(&rows(&exported()));
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    let first = parsed[0].as_object().unwrap();
    let keys: Vec<&str> = first.keys().map(String::as_str).collect();
    let mut want = columns().to_vec();
    want.sort_unstable();
    let mut got = keys.clone();
    got.sort_unstable();
    assert_eq!(got, want);
    assert_eq!(first["title"], "Printer, 3rd floor \"HP-4\" jams");
    assert!(to_csv(&[]).unwrap().starts_with("reference,title,"));
}

fn imported(items: &[IncidentSummary]) -> HashSet<String> {
    items
        .iter()
        .filter_map(|s| s.imported_from.as_deref())
        .map(imported_key)
        .collect()
}

/// Imports every row the plan can create into a second workspace's device; returns the new
/// summaries.
fn import_into(csv: &str, already: &[IncidentSummary]) -> (Vec<RowPlan>, Vec<IncidentSummary>) {
    let cfg = cfg();
    let table = read_csv(csv).unwrap();
    let mapping = recognise(&table.headers);
    assert!(mapping.problems().is_empty(), "{:?}", mapping.problems());
    let origin = by("carol", 700);
    let planned = plan(&table, &mapping, &imported(already), &origin, &cfg);
    let prefix = DevicePrefix::new("B0B0").unwrap();
    let made = planned
        .iter()
        .filter_map(|p| match p {
            RowPlan::Create(c) => Some(c),
            _ => None,
        })
        .enumerate()
        .map(|(i, c)| {
            let n = u32::try_from(i).unwrap() + 100;
            let doc = build(c, &ReferenceNumber::new(prefix.clone(), n), &origin, &cfg).unwrap();
            doc.view(&cfg, at(700))
                .unwrap()
                .summary(&format!("doc-{n}"), &cfg, cfg.list_rules())
        })
        .collect();
    (planned, made)
}

#[test]
fn an_export_imports_into_another_workspace_once() {
    let first = exported();
    let csv = to_csv(&rows(&first)).unwrap();
    let (planned, second) = import_into(&csv, &[]);
    assert_eq!(planned.len(), 3);
    assert_eq!(second.len(), 3);
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(b.imported_from.as_deref(), Some(a.reference.as_str()));
        assert_eq!(b.title, a.title, "the formula guard is taken off again");
        assert_eq!(b.state, a.state);
        assert_eq!(b.priority, a.priority);
        assert_eq!(b.category, a.category);
        assert_eq!(b.affected_service, a.affected_service);
        assert_eq!(b.assignment_group, a.assignment_group);
        assert_ne!(
            b.reference, a.reference,
            "the new workspace numbers its own"
        );
    }
    // Again: nothing new.
    let (again, made) = import_into(&csv, &second);
    assert!(made.is_empty());
    assert!(again
        .iter()
        .all(|p| matches!(p, RowPlan::AlreadyImported { .. })));
}

#[test]
fn servicenow_and_jira_exports_are_recognised() {
    let now = recognise(
        &[
            "number",
            "short_description",
            "caller_id",
            "category",
            "priority",
            "state",
            "assignment_group",
            "assigned_to",
            "opened_at",
            "cmdb_ci",
            "close_notes",
            "sys_updated_on",
        ]
        .map(String::from),
    );
    assert_eq!(now.column(Target::ExternalId), Some(0));
    assert_eq!(now.column(Target::Title), Some(1));
    assert_eq!(now.column(Target::Caller), Some(2));
    assert_eq!(now.column(Target::Group), Some(6));
    assert_eq!(now.column(Target::OpenedAt), Some(8));
    assert_eq!(now.column(Target::Service), Some(9));
    assert_eq!(now.column(Target::ResolutionNotes), Some(10));
    assert_eq!(now.columns[11], None);
    let labels =
        recognise(&["Number", "Short description", "Assignment group", "Opened"].map(String::from));
    assert_eq!(labels.column(Target::Group), Some(2));
    assert_eq!(labels.column(Target::OpenedAt), Some(3));
    let jira = recognise(
        &[
            "Summary",
            "Issue key",
            "Status",
            "Priority",
            "Reporter",
            "Created",
            "Custom field (Impact)",
            "Custom field (Urgency)",
        ]
        .map(String::from),
    );
    assert_eq!(jira.column(Target::ExternalId), Some(1));
    assert_eq!(jira.column(Target::Title), Some(0));
    assert_eq!(jira.column(Target::State), Some(2));
    assert_eq!(jira.column(Target::Impact), Some(6));
    assert_eq!(jira.column(Target::Urgency), Some(7));
}

#[test]
fn a_servicenow_file_imports_with_its_states_and_priorities() {
    let csv = "number,short_description,caller_id,category,priority,state,assignment_group,opened_at,close_notes\r\n\
        INC0010001,Mail down,Dana Reyes,Software,1 - Critical,In Progress,Messaging,2026-11-30 07:00:00,\r\n\
        INC0010002,Laptop broken,Lee Chan,Hardware,4 - Low,Closed,Desktop,2026-11-29 09:30:00,Replaced the disk\r\n";
    let (planned, made) = import_into(csv, &[]);
    assert_eq!(planned.len(), 2, "{planned:?}");
    assert_eq!(made[0].state, State::InProgress);
    assert_eq!(made[0].priority, outpost_core::Priority::P1);
    assert_eq!(made[1].state, State::Closed);
    assert_eq!(made[1].priority, outpost_core::Priority::P4);
    assert_eq!(made[1].imported_from.as_deref(), Some("INC0010002"));
}

#[test]
fn every_bad_row_says_what_is_wrong_before_anything_is_written() {
    let csv = "Issue key,Summary,Status,Priority,Category,Created\n\
        SD-1,Fine,Open,High,,01/Mar/26 10:00 AM\n\
        SD-2,,Open,High,,\n\
        SD-3,Odd state,Parked,High,,\n\
        SD-4,Odd priority,Open,Urgent-ish,,\n\
        SD-5,Odd category,Open,High,Plumbing,\n\
        SD-6,Odd time,Open,High,,last Tuesday\n\
        SD-1,Twice,Open,High,,\n\
        ,No id,Open,High,,\n\
        SD-9,Too,many,fields,here,x,y\n";
    let (planned, made) = import_into(csv, &[]);
    assert_eq!(made.len(), 1);
    let errors: Vec<(u64, String)> = planned
        .iter()
        .filter_map(|p| match p {
            RowPlan::Invalid { line, errors } => Some((*line, errors.join(" "))),
            _ => None,
        })
        .collect();
    let on = |line: u64| -> &str {
        &errors
            .iter()
            .find(|(l, _)| *l == line)
            .unwrap_or_else(|| panic!("no error on line {line}: {errors:?}"))
            .1
    };
    assert!(on(3).contains("Title"), "{}", on(3));
    assert!(on(4).contains("State “Parked”"), "{}", on(4));
    assert!(on(5).contains("Priority “Urgent-ish”"), "{}", on(5));
    assert!(on(6).contains("Plumbing"), "{}", on(6));
    assert!(on(7).contains("“last Tuesday” is not a time"), "{}", on(7));
    assert!(on(8).contains("also on line 2"), "{}", on(8));
    assert!(on(9).contains("external id is empty"), "{}", on(9));
    assert!(
        on(10).contains("7 fields where the header has 6"),
        "{}",
        on(10)
    );
    assert_eq!(errors.len(), 8);
}

#[test]
fn a_mapping_without_an_id_or_title_says_so() {
    let m = Mapping {
        columns: vec![Some(Target::Title), Some(Target::Title), None],
    };
    let problems = m.problems();
    assert!(
        problems.iter().any(|p| p.contains("external id")),
        "{problems:?}"
    );
    assert!(problems
        .iter()
        .any(|p| p.contains("Title is chosen for two columns")));
    assert!(read_csv("").is_err());
}
