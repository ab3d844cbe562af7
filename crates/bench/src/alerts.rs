//! The alert burst: senders post Alertmanager webhooks as fast as the relay answers them
//! (`senders` at once, each posting as soon as its last is answered), `alerts` alerts over
//! `fingerprints` identities, while the fan-out workload of issue 6 runs beside it. Measured:
//! the incidents made (exactly one per fingerprint), alerts a second, the time from the POST
//! that opens an incident to that incident reaching a subscribed device, the time to each
//! answer, and the fan-out latency meanwhile.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use automerge::Automerge;
use outpost_core::IncidentDoc;
use outpost_peer::{Peer, PeerError};
use outpost_sync::DocumentId;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::data;
use crate::relay::Relay;
use crate::scenarios::{micros_now, online, Ctx, FanoutLoad};
use crate::stats::{median, quantile, report};

/// The burst's shape.
pub struct Burst {
    /// Alerts posted in all.
    pub alerts: usize,
    /// Distinct alert identities among them.
    pub fingerprints: usize,
    /// Posts in flight at once.
    pub senders: usize,
    /// Fan-out devices meanwhile.
    pub clients: usize,
    /// Incidents they write to.
    pub docs: usize,
    /// How long the fan-out runs (the burst's expected length, and some).
    pub seconds: u64,
}

/// One alert, its own webhook body: a firing that is new each time (its annotation counts),
/// so no post is a retry of another.
fn body(n: usize, fingerprint: usize) -> String {
    json!({
        "version": "4",
        "status": "firing",
        "receiver": "outpost",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.bench:9093",
        "alerts": [{
            "status": "firing",
            "labels": { "alertname": "BenchAlert", "instance": format!("host-{fingerprint}:9100"), "severity": "warning", "service": "Bench" },
            "annotations": { "summary": format!("Bench alert {fingerprint}"), "sequence": n.to_string() },
            "startsAt": "2026-12-01T00:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.bench:9090/graph",
            "fingerprint": format!("fp-{fingerprint:05}")
        }]
    })
    .to_string()
}

/// One sender's connection, kept alive between posts as Alertmanager's HTTP client keeps it.
struct Sender {
    addr: String,
    stream: Option<tokio::io::BufReader<tokio::net::TcpStream>>,
}

impl Sender {
    /// Posts `body` and returns the status code (reconnecting if the relay closed the
    /// connection).
    async fn post(&mut self, key: &str, body: &str) -> Result<u16, String> {
        use tokio::io::AsyncBufReadExt;
        if self.stream.is_none() {
            let stream = tokio::net::TcpStream::connect(&self.addr)
                .await
                .map_err(|e| e.to_string())?;
            self.stream = Some(tokio::io::BufReader::new(stream));
        }
        let stream = self.stream.as_mut().expect("connected above");
        let request = format!(
            "POST /api/integrations/alertmanager HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nAuthorization: Bearer {key}\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        let answer = async {
            stream.get_mut().write_all(request.as_bytes()).await?;
            let mut status = String::new();
            stream.read_line(&mut status).await?;
            let (mut length, mut close) = (0usize, false);
            loop {
                let mut line = String::new();
                stream.read_line(&mut line).await?;
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                close |= lower == "connection: close";
            }
            let mut rest = vec![0; length];
            stream.read_exact(&mut rest).await?;
            Ok::<_, std::io::Error>((status, close))
        }
        .await;
        let (status, close) = match answer {
            Ok(a) => a,
            Err(e) => {
                self.stream = None;
                return Err(e.to_string());
            }
        };
        if close {
            self.stream = None;
        }
        status
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no status in {status:?}"))
    }
}

/// Runs the burst.
pub async fn burst(ctx: &Ctx, b: &Burst) -> Result<Vec<Value>, String> {
    // The per-key limit is lifted: what the relay takes is what is measured.
    let relay = Relay::start_with(
        &ctx.relay,
        ctx.no_judge,
        &["--alert-rate", "1000000", "--alert-burst", "1000000"],
    )?;
    let seed: Vec<(DocumentId, Automerge)> = data::build_all(&ctx.data, b.docs)?;
    let ids: Vec<DocumentId> = seed.iter().map(|(id, _)| *id).collect();
    let mut seeder = Peer::new("seeder");
    seeder
        .docs
        .docs
        .extend(seed.iter().map(|(id, d)| (*id, d.clone())));
    online(&mut seeder, &relay).await?;
    seeder.disconnect().await;
    let key = relay.integration("alertmanager")?;
    let relay = Arc::new(relay);
    let mut watcher = Peer::new("alert-watcher");
    online(&mut watcher, &relay).await?;
    let load = FanoutLoad::prepare(&relay, b.clients).await?;
    let begin = load.begin;

    // The burst starts with the fan-out's timed part.
    let opened_at: Arc<Mutex<HashMap<usize, i64>>> = Arc::default();
    let answers: Arc<Mutex<Vec<f64>>> = Arc::default();
    let refused: Arc<Mutex<Vec<u16>>> = Arc::default();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let last_answer = Arc::new(Mutex::new(begin));
    let mut senders = Vec::new();
    for _ in 0..b.senders {
        let mut sender = Sender {
            addr: relay.addr(),
            stream: None,
        };
        let key = key.clone();
        let (opened_at, answers, refused, next, last_answer) = (
            opened_at.clone(),
            answers.clone(),
            refused.clone(),
            next.clone(),
            last_answer.clone(),
        );
        let (alerts, fingerprints) = (b.alerts, b.fingerprints);
        senders.push(tokio::spawn(async move {
            tokio::time::sleep_until(begin.into()).await;
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if n >= alerts {
                    return Ok::<(), String>(());
                }
                let fingerprint = n % fingerprints;
                let text = body(n, fingerprint);
                let sent = Instant::now();
                if n < fingerprints {
                    opened_at.lock().unwrap().insert(fingerprint, micros_now());
                }
                let status = sender.post(&key, &text).await?;
                answers
                    .lock()
                    .unwrap()
                    .push(sent.elapsed().as_secs_f64() * 1000.0);
                let mut last = last_answer.lock().unwrap();
                *last = (*last).max(Instant::now());
                if status != 202 {
                    refused.lock().unwrap().push(status);
                }
            }
        }));
    }
    let fanout = {
        let relay = relay.clone();
        let (ids, seed, seconds) = (ids.clone(), seed.clone(), b.seconds);
        tokio::spawn(async move { load.run(&relay, &ids, &seed, seconds, true).await })
    };

    // The watcher: each new incident, when it arrives.
    let mut arrived: HashMap<DocumentId, usize> = HashMap::new();
    let mut latencies = Vec::new();
    let known: HashSet<DocumentId> = ids.iter().copied().collect();
    let deadline = begin + Duration::from_secs(b.seconds + 60);
    while arrived.len() < b.fingerprints && Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        match watcher
            .pump_until("an incident", left, |p| !p.changed.is_empty())
            .await
        {
            Ok(()) | Err(PeerError::Timeout(_)) => {}
            Err(e) => return Err(e.to_string()),
        }
        let now = micros_now();
        for id in std::mem::take(&mut watcher.changed) {
            if known.contains(&id) || arrived.contains_key(&id) {
                continue;
            }
            let Some(doc) = watcher.docs.docs.get(&id) else {
                continue;
            };
            let Ok(incident) = IncidentDoc::from_automerge(doc.clone()).and_then(|d| d.read())
            else {
                continue;
            };
            let Some(fingerprint) = incident
                .title
                .strip_prefix("Bench alert ")
                .and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            if let Some(at) = opened_at.lock().unwrap().get(&fingerprint) {
                latencies.push((now - at) as f64 / 1000.0);
            }
            arrived.insert(id, fingerprint);
        }
    }
    for s in senders {
        s.await.map_err(|e| e.to_string())??;
    }
    // Senders started at `begin`; the burst lasted until the last answer.
    let burst_ms = (*last_answer.lock().unwrap() - begin).as_secs_f64() * 1000.0;
    let (fan_sent, fan_latencies) = fanout.await.map_err(|e| e.to_string())??;
    // Anything that arrives late would be a second incident for some fingerprint: wait a
    // moment more for stragglers, then count.
    let _ = watcher
        .pump_until("stragglers", Duration::from_secs(2), |_| false)
        .await;
    let incidents: Vec<usize> = watcher
        .docs
        .docs
        .iter()
        .filter(|(id, _)| !known.contains(id))
        .filter_map(|(_, d)| {
            let i = IncidentDoc::from_automerge(d.clone()).ok()?.read().ok()?;
            i.title.strip_prefix("Bench alert ")?.parse().ok()
        })
        .collect();
    let distinct: HashSet<usize> = incidents.iter().copied().collect();
    let answers = answers.lock().unwrap().clone();
    let refused = refused.lock().unwrap().clone();
    Ok(vec![report(
        "alert-burst",
        &[],
        json!({
            "alerts": b.alerts,
            "fingerprints": b.fingerprints,
            "senders": b.senders,
            "incidents": incidents.len(),
            "fingerprints_with_an_incident": distinct.len(),
            "refused": refused.len(),
            "burst_ms": burst_ms.round(),
            "alerts_per_second": (b.alerts as f64 / (burst_ms / 1000.0)).round(),
            "answer_p50_ms": (median(&answers) * 100.0).round() / 100.0,
            "answer_p99_ms": (quantile(&answers, 0.99) * 100.0).round() / 100.0,
            "to_device_p50_ms": (median(&latencies) * 100.0).round() / 100.0,
            "to_device_p99_ms": (quantile(&latencies, 0.99) * 100.0).round() / 100.0,
            "fanout_clients": b.clients,
            "fanout_sent": fan_sent,
            "fanout_dropped": fan_sent.saturating_sub(fan_latencies.len() as u64),
            "fanout_p50_ms": (median(&fan_latencies) * 100.0).round() / 100.0,
            "fanout_p99_ms": (quantile(&fan_latencies, 0.99) * 100.0).round() / 100.0,
        }),
    )])
}
