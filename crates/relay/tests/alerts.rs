//! Alerts in, against the real relay binary: Alertmanager's, Grafana's and the Events API's
//! payloads (fixtures written from their documented shapes) open, repeat, acknowledge and
//! resolve incidents, which reach a device subscribed to the workspace; every bad input gets its
//! JSON refusal and changes nothing.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use outpost_core::incident::DetectionSource;
use outpost_core::{Incident, IncidentDoc, State};
use outpost_peer::Peer;
use serde_json::Value;
use support::{http_send, Relay};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../automation/tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Creates an integration with the CLI, as an operator would; returns its key.
fn integration(relay: &Relay, workspace: &str, kind: &str, name: &str) -> String {
    relay.printed(&[
        "integration",
        "create",
        "--workspace",
        workspace,
        "--kind",
        kind,
        "--name",
        name,
    ])
}

async fn post(relay: &Relay, path: &str, key: Option<&str>, body: &str) -> (u16, Value) {
    let auth = key.map(|k| format!("Bearer {k}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    let (status, text) = http_send(relay.port, "POST", path, &headers, body).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The incidents the peer holds, by title.
fn incidents(peer: &Peer) -> Vec<(outpost_sync::DocumentId, Incident)> {
    let mut found: Vec<_> = peer
        .docs
        .docs
        .iter()
        .filter_map(|(id, d)| {
            IncidentDoc::from_automerge(d.clone())
                .ok()?
                .read()
                .ok()
                .map(|i| (*id, i))
        })
        .collect();
    found.sort_by(|a, b| a.1.title.cmp(&b.1.title));
    found
}

fn titled(peer: &Peer, title: &str) -> Option<Incident> {
    incidents(peer)
        .into_iter()
        .map(|(_, i)| i)
        .find(|i| i.title == title)
}

async fn until(peer: &mut Peer, what: &str, done: impl Fn(&Peer) -> bool) {
    peer.pump_until(what, Duration::from_secs(10), done)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn alertmanager_groups_open_repeat_and_resolve_incidents_reaching_a_device() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &[]);
    let key = integration(&relay, "acme", "alertmanager", "prod-eu");
    let mut wendy = support::watcher(&relay, "acme").await;

    // A group of two alerts: a parent for the group, each alert a child (the default choice).
    let firing = fixture("alertmanager-firing.json");
    let (status, answer) = post(
        &relay,
        "/api/integrations/alertmanager",
        Some(&key),
        &firing,
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let results: Vec<&str> = answer["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["opened", "opened", "opened"]);
    until(&mut wendy, "the group and its two alerts", |p| {
        incidents(p).len() == 3
    })
    .await;
    let (parent_id, parent) = incidents(&wendy)
        .into_iter()
        .find(|(_, i)| i.title == "DiskFull: 2 of 2 alerts firing")
        .expect("the group's parent incident");
    let db1 = titled(&wendy, "Disk almost full on db-1").expect("db-1's incident");
    assert_eq!(db1.detection_source, DetectionSource::Monitoring);
    assert_eq!(db1.affected_service, "Payroll");
    assert_eq!(db1.reported_by, "Alertmanager: prod-eu");
    assert_eq!(db1.impact, outpost_core::Impact::High);
    assert!(
        db1.description
            .contains("runbook_url: https://runbooks.example.test/disk-full"),
        "{}",
        db1.description
    );
    assert_eq!(db1.state, State::New);
    assert_eq!(db1.parent, Some(parent_id.to_string()));
    assert_eq!(parent.state, State::New);
    assert_eq!(
        answer["alerts"][1]["incident"].as_str(),
        Some(db1.reference.to_string().as_str())
    );

    // Alertmanager retries: the same body again changes nothing and gets the same answer.
    let (status, again) = post(
        &relay,
        "/api/integrations/alertmanager",
        Some(&key),
        &firing,
    )
    .await;
    assert_eq!((status, &again), (202, &answer));

    // A repeat firing (its group re-sent with a new annotation) is an occurrence, not a second
    // incident.
    let repeat = firing.replace("/var on db-1 is 97% full.", "/var on db-1 is 98% full.");
    let (status, answer) = post(
        &relay,
        "/api/integrations/alertmanager",
        Some(&key),
        &repeat,
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["alerts"][1]["result"], "updated");
    until(&mut wendy, "the occurrence", |p| {
        titled(p, "Disk almost full on db-1")
            .is_some_and(|i| i.work_notes.iter().any(|n| n.body.contains("occurrence 2")))
    })
    .await;
    assert_eq!(
        incidents(&wendy).len(),
        3,
        "a repeat never opens another incident"
    );

    // Recovery resolves the alerts and the group by monitoring (the default mapping).
    let resolved = firing.replace("\"status\": \"firing\"", "\"status\": \"resolved\"");
    let (status, answer) = post(
        &relay,
        "/api/integrations/alertmanager",
        Some(&key),
        &resolved,
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    until(&mut wendy, "all resolved", |p| {
        incidents(p).iter().all(|(_, i)| i.state == State::Resolved)
    })
    .await;
    let db1 = titled(&wendy, "Disk almost full on db-1").unwrap();
    assert_eq!(
        db1.resolution_code.map(|c| c.name().to_string()).as_deref(),
        Some("Resolved by monitoring")
    );

    // Firing again after the incidents resolved opens new ones for the same alerts.
    let (status, answer) = post(
        &relay,
        "/api/integrations/alertmanager",
        Some(&key),
        &repeat.replace("98%", "99%"),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["alerts"][1]["result"], "opened");
    until(&mut wendy, "a second group", |p| incidents(p).len() == 6).await;
}

/// Writes the workspace's alert mapping as an admin's device would.
async fn set_alert_mapping(relay: &Relay, mapping: outpost_core::alert::AlertMapping) {
    use outpost_core::workspace::{Edit, Setting};
    support::edit_workspace(relay, "acme", &[Edit::Set(Setting::Alerts(mapping))]).await;
}

#[tokio::test]
async fn a_workspace_can_take_a_group_as_one_incident_and_only_record_recoveries() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &[]);
    let key = integration(&relay, "acme", "alertmanager", "prod-eu");
    set_alert_mapping(
        &relay,
        outpost_core::alert::AlertMapping {
            grouping: outpost_core::alert::Grouping::One,
            resolve_on_recovery: false,
            ..Default::default()
        },
    )
    .await;
    let mut wendy = support::watcher(&relay, "acme").await;
    let firing = fixture("alertmanager-firing.json");
    let (status, answer) = post(
        &relay,
        "/api/integrations/alertmanager",
        Some(&key),
        &firing,
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    until(&mut wendy, "one incident for the group", |p| {
        incidents(p).len() == 1
    })
    .await;
    let one = titled(&wendy, "DiskFull: 2 of 2 alerts firing").unwrap();
    assert!(
        one.description
            .contains("Disk almost full on db-2 (6a4b2d3c0e9f8a71)"),
        "{}",
        one.description
    );
    let resolved = firing.replace("\"status\": \"firing\"", "\"status\": \"resolved\"");
    let (status, _) = post(
        &relay,
        "/api/integrations/alertmanager",
        Some(&key),
        &resolved,
    )
    .await;
    assert_eq!(status, 202);
    until(&mut wendy, "the recovery recorded", |p| {
        titled(p, "DiskFull: 2 of 2 alerts firing").is_some_and(|i| {
            i.work_notes
                .iter()
                .any(|n| n.body.starts_with("Monitoring reports recovery"))
        })
    })
    .await;
    let one = titled(&wendy, "DiskFull: 2 of 2 alerts firing").unwrap();
    assert_eq!(
        one.state,
        State::New,
        "this workspace only records recoveries"
    );
    assert_eq!(incidents(&wendy).len(), 1);
}

#[tokio::test]
async fn a_mail_opens_an_incident_classified_by_keywords_and_replies_become_comments() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &[]);
    let key = integration(&relay, "acme", "mail", "help desk");
    let mut wendy = support::watcher(&relay, "acme").await;
    let mail = fixture("mail-new.json");
    let (status, answer) = post(&relay, "/api/integrations/mail", Some(&key), &mail).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["result"], "opened");
    let reference = answer["incident"].as_str().unwrap().to_string();
    let title = "VPN down for the whole office";
    until(&mut wendy, "the mail's incident", |p| {
        titled(p, title).is_some()
    })
    .await;
    let incident = titled(&wendy, title).unwrap();
    assert_eq!(incident.detection_source, DetectionSource::Email);
    assert_eq!(incident.caller, "Dana Reyes <dana.reyes@example.test>");
    assert_eq!(
        (incident.category.as_str(), incident.subcategory.as_str()),
        ("Network", "VPN")
    );
    assert_eq!(
        (incident.impact, incident.urgency),
        (outpost_core::Impact::High, outpost_core::Urgency::High)
    );
    assert!(
        incident
            .description
            .contains("vpn-error.png (image/png, 48213 bytes)"),
        "{}",
        incident.description
    );
    // A retry of the same post changes nothing.
    let (status, again) = post(&relay, "/api/integrations/mail", Some(&key), &mail).await;
    assert_eq!((status, &again), (202, &answer));

    // A reply naming the reference in its subject is a comment, not a new incident.
    let reply = mail
        .replace(
            "\"Subject\": \"VPN down for the whole office\"",
            &format!("\"Subject\": \"Re: [{reference}] VPN down\""),
        )
        .replace(
            "<CAE4pKq3@mail.example.test>",
            "<CAE4pKq4@mail.example.test>",
        )
        .replace(
            "nobody in the Leeds office can connect",
            "it works again for me, not for Sam",
        );
    let (status, answer) = post(&relay, "/api/integrations/mail", Some(&key), &reply).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(
        (answer["result"].as_str(), answer["incident"].as_str()),
        (Some("commented"), Some(reference.as_str()))
    );
    // A reply found only by its thread headers (In-Reply-To the first mail) is one too.
    let threaded = mail
        .replace("\"Subject\": \"VPN down for the whole office\"", "\"Subject\": \"Re: VPN\"")
        .replace("{ \"Name\": \"Message-ID\", \"Value\": \"<CAE4pKq3@mail.example.test>\" }", "{ \"Name\": \"Message-ID\", \"Value\": \"<CAE4pKq5@mail.example.test>\" }, { \"Name\": \"In-Reply-To\", \"Value\": \"<CAE4pKq3@mail.example.test>\" }")
        .replace("nobody in the Leeds office can connect", "Sam is back online too");
    let (status, answer) = post(&relay, "/api/integrations/mail", Some(&key), &threaded).await;
    assert_eq!(
        (status, answer["result"].as_str()),
        (202, Some("commented")),
        "{answer}"
    );
    until(&mut wendy, "both comments", |p| {
        titled(p, title).is_some_and(|i| i.comments.len() == 2)
    })
    .await;
    let incident = titled(&wendy, title).unwrap();
    assert!(incident.comments[0]
        .body
        .starts_with("Mail from Dana Reyes <dana.reyes@example.test>:"));
    assert!(incident
        .comments
        .iter()
        .any(|c| c.body.contains("Sam is back online too")));
    assert_eq!(incidents(&wendy).len(), 1, "replies never open incidents");

    // A mail with no sender is refused, naming the field.
    let (status, body) = post(
        &relay,
        "/api/integrations/mail",
        Some(&key),
        r#"{"Subject":"hi","TextBody":"x"}"#,
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("From")),
        "{body}"
    );
}

#[tokio::test]
async fn the_events_api_triggers_acknowledges_and_resolves_and_grafana_opens() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &[]);
    let events = integration(&relay, "acme", "events", "shop");
    let grafana = integration(&relay, "acme", "grafana", "ops");
    let mut wendy = support::watcher(&relay, "acme").await;

    let trigger = fixture("events-trigger.json").replace("ROUTING_KEY", &events);
    let (status, answer) = post(&relay, "/v2/enqueue", None, &trigger).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["status"], "success");
    assert_eq!(answer["dedup_key"], "checkout-latency-eu");
    let title = "Checkout p99 latency above 2 s in eu-west";
    until(&mut wendy, "the event's incident", |p| {
        titled(p, title).is_some()
    })
    .await;
    let incident = titled(&wendy, title).unwrap();
    assert_eq!(incident.reported_by, "Events API: shop");
    assert!(
        incident.description.contains("region: eu-west"),
        "{}",
        incident.description
    );

    let act = |action: &str| {
        format!(
            r#"{{"routing_key":"{events}","event_action":"{action}","dedup_key":"checkout-latency-eu"}}"#
        )
    };
    let (status, _) = post(&relay, "/v2/enqueue", None, &act("acknowledge")).await;
    assert_eq!(status, 202);
    until(&mut wendy, "work started", |p| {
        titled(p, title).is_some_and(|i| i.state == State::InProgress)
    })
    .await;
    let (status, _) = post(&relay, "/v2/enqueue", None, &act("resolve")).await;
    assert_eq!(status, 202);
    until(&mut wendy, "resolved", |p| {
        titled(p, title).is_some_and(|i| i.state == State::Resolved)
    })
    .await;
    // A resolve for a key nobody triggered is taken and ignored, as PagerDuty does.
    let stray = act("resolve").replace("checkout-latency-eu", "never-seen");
    let (status, answer) = post(&relay, "/v2/enqueue", None, &stray).await;
    assert_eq!((status, answer["status"].as_str()), (202, Some("success")));

    let (status, answer) = post(
        &relay,
        "/api/integrations/grafana",
        Some(&grafana),
        &fixture("grafana-firing.json"),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    until(&mut wendy, "Grafana's incident", |p| {
        titled(p, "High memory usage in zone us-1").is_some()
    })
    .await;
    let memory = titled(&wendy, "High memory usage in zone us-1").unwrap();
    assert_eq!(memory.reported_by, "Grafana: ops");
    assert!(
        memory
            .description
            .contains("https://grafana.example.test/alerting/silence/new"),
        "{}",
        memory.description
    );
    assert_eq!(incidents(&wendy).len(), 2);
}

#[tokio::test]
async fn bad_deliveries_get_json_refusals_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &["--alert-rate", "1", "--alert-burst", "2"]);
    let key = integration(&relay, "acme", "alertmanager", "prod-eu");
    let events = integration(&relay, "acme", "events", "shop");
    let mut wendy = support::watcher(&relay, "acme").await;
    let firing = fixture("alertmanager-firing.json");
    let am = "/api/integrations/alertmanager";

    let refused = |(status, body): (u16, Value), code: u16, field: &str| {
        assert_eq!(status, code, "{body}");
        assert_eq!(body["field"], field, "{body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    };
    refused(post(&relay, am, None, &firing).await, 401, "key");
    refused(
        post(
            &relay,
            am,
            Some("0123456789abcdef0123456789abcdef"),
            &firing,
        )
        .await,
        401,
        "key",
    );
    // A key made for another endpoint is not taken here.
    refused(post(&relay, am, Some(&events), &firing).await, 401, "key");
    refused(
        post(&relay, am, Some(&key), "{\"version\": \"4\", \"alerts\": [").await,
        400,
        "alerts",
    );
    refused(
        post(
            &relay,
            am,
            Some(&key),
            &firing.replace(
                "\"fingerprint\": \"5f3a1c2b9d8e7f60\"",
                "\"fingerprint\": 7",
            ),
        )
        .await,
        400,
        "alerts[0].fingerprint",
    );
    refused(
        post(
            &relay,
            am,
            Some(&key),
            &firing.replace("\"version\": \"4\"", "\"version\": \"3\""),
        )
        .await,
        400,
        "version",
    );
    let event = fixture("events-trigger.json").replace("ROUTING_KEY", &events);
    let (status, body) = post(
        &relay,
        "/v2/enqueue",
        None,
        &event.replace("\"error\"", "\"disaster\""),
    )
    .await;
    refused((status, body.clone()), 400, "payload.severity");
    assert_eq!(body["status"], "invalid event");
    let huge = format!(
        "{{\"version\":\"4\",\"pad\":\"{}\",\"alerts\":[]}}",
        "x".repeat(1_100_000)
    );
    refused(post(&relay, am, Some(&key), &huge).await, 413, "body");

    // The burst of two, then 429 with Retry-After.
    for n in 0..2 {
        let body = firing.replace("97% full", &format!("9{n}% full"));
        let (status, answer) = post(&relay, am, Some(&key), &body).await;
        assert_eq!(status, 202, "{answer}");
    }
    let body = firing.replace("97% full", "95% full");
    let (status, head, text) = support::http_send_full(
        relay.port,
        "POST",
        am,
        &[("Authorization", &format!("Bearer {key}"))],
        &body,
    )
    .await;
    assert_eq!(status, 429, "{text}");
    let retry: u64 = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("retry-after: ")
                .or_else(|| l.strip_prefix("Retry-After: "))
        })
        .unwrap_or_else(|| panic!("no Retry-After in {head}"))
        .trim()
        .parse()
        .unwrap();
    assert!(retry >= 1);

    // Only the two accepted deliveries' incidents exist.
    until(&mut wendy, "the accepted incidents", |p| {
        incidents(p).len() == 2
    })
    .await;
    let revoke = relay.cli(&["integration", "list"]);
    assert!(String::from_utf8_lossy(&revoke.stdout).contains("prod-eu"));
}

#[tokio::test]
async fn a_storm_of_repeats_is_counted_on_one_incident() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &[]);
    let key = integration(&relay, "acme", "events", "shop");
    let mut wendy = support::watcher(&relay, "acme").await;
    let trigger = fixture("events-trigger.json").replace("ROUTING_KEY", &key);
    let (status, _) = post(&relay, "/v2/enqueue", None, &trigger).await;
    assert_eq!(status, 202);
    // Twenty repeats at once, each its own body (senders add a timestamp).
    let posts: Vec<_> = (0..20)
        .map(|n| {
            let body = trigger.replace(
                "2026-12-04T02:10:00Z",
                &format!("2026-12-04T02:{:02}:00Z", 11 + n),
            );
            let relay_port = relay.port;
            tokio::spawn(async move {
                let (status, _) = http_send(
                    relay_port,
                    "POST",
                    "/v2/enqueue",
                    &[("Content-Type", "application/json")],
                    &body,
                )
                .await;
                status
            })
        })
        .collect();
    for p in posts {
        assert_eq!(p.await.unwrap(), 202);
    }
    let title = "Checkout p99 latency above 2 s in eu-west";
    // However they were batched, the timeline counts to the 21st firing, on the one incident.
    until(&mut wendy, "the last occurrence", |p| {
        titled(p, title).is_some_and(|i| {
            i.work_notes
                .iter()
                .any(|n| n.body.contains(" 21, last seen"))
        })
    })
    .await;
    let notes = titled(&wendy, title).unwrap().work_notes;
    assert!(notes.len() <= 20, "{} notes", notes.len());
    assert_eq!(incidents(&wendy).len(), 1);
}

#[tokio::test]
async fn an_admin_makes_and_revokes_keys_through_the_api_and_nobody_else_can() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &[]);
    let token = |role: &str, user: &str| format!("Bearer {}", relay.token_of("acme", user, role));
    let (admin, agent) = (token("admin", "Ada Admin"), token("agent", "Al Agent"));
    let make = |auth: String, body: Value| async move {
        support::http_post_json(
            relay.port,
            "/api/integrations",
            &[("Authorization", auth.as_str())],
            body,
        )
        .await
    };
    let (status, refused) = make(
        agent.clone(),
        serde_json::json!({"kind": "grafana", "name": "ops"}),
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    let (status, bad) = make(
        admin.clone(),
        serde_json::json!({"kind": "nagios", "name": "ops"}),
    )
    .await;
    assert_eq!(status, 400, "{bad}");
    assert!(bad["error"]
        .as_str()
        .unwrap()
        .contains("alertmanager, grafana, events or mail"));
    let (status, made) = make(
        admin.clone(),
        serde_json::json!({"kind": "grafana", "name": "ops"}),
    )
    .await;
    assert_eq!(status, 200, "{made}");
    let key = made["key"].as_str().unwrap().to_string();
    assert_eq!(made["author"], "Grafana: ops");
    let (status, listed) = support::http_get(
        relay.port,
        "/api/integrations",
        &[("Authorization", &admin)],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        listed.contains("\"ops\"") && !listed.contains(&key),
        "the list never shows keys: {listed}"
    );
    let grafana = fixture("grafana-firing.json");
    let (status, _) = post(&relay, "/api/integrations/grafana", Some(&key), &grafana).await;
    assert_eq!(status, 202);
    let id = made["id"].as_str().unwrap();
    let path = format!("/api/integrations/{id}/revoke");
    let (status, _) = support::http_post_json(
        relay.port,
        &path,
        &[("Authorization", agent.as_str())],
        serde_json::json!({}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = support::http_post_json(
        relay.port,
        &path,
        &[("Authorization", admin.as_str())],
        serde_json::json!({}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = post(
        &relay,
        "/api/integrations/grafana",
        Some(&key),
        &grafana.replace("44.23", "45.1"),
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (401, Some("key")));
}
