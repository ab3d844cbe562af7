//! The benchmarks themselves: each starts a relay, seeds it, measures, and returns JSON lines.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ReadDoc, ROOT};
use outpost_core::incident::NoteKind;
use outpost_core::{Attribution, Command, DeviceTime, IncidentDoc, WorkspaceConfig};
use outpost_peer::{Peer, PeerError, TokenIn};
use outpost_sync::wire::{self, Message};
use outpost_sync::DocumentId;
use serde_json::{json, Value};

use crate::data::{self, Dataset};
use crate::relay::Relay;
use crate::stats::{median, quantile, report};

/// What every benchmark needs.
pub struct Ctx {
    /// The relay binary.
    pub relay: PathBuf,
    /// The dataset.
    pub data: Dataset,
    /// Repetitions of each timed step.
    pub reps: usize,
    /// Start the relay with its judge off (to measure what the judge costs).
    pub no_judge: bool,
}

/// Generous: a benchmark that is slow should say how slow, not time out.
const WAIT: Duration = Duration::from_secs(900);

fn err(e: PeerError) -> String {
    e.to_string()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(crate) fn micros_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Connects a device and waits until it has caught up with the relay.
pub(crate) async fn online(peer: &mut Peer, relay: &Relay) -> Result<(), String> {
    peer.connect(&relay.ws, TokenIn::Subprotocol(relay.token.clone()))
        .await
        .map_err(err)?;
    peer.caught_up(WAIT).await.map_err(err)
}

/// A relay holding the first `count` incidents of the dataset, pushed by one device.
async fn seeded(ctx: &Ctx, count: usize) -> Result<(Relay, Vec<DocumentId>), String> {
    let relay = Relay::start(&ctx.relay, ctx.no_judge)?;
    eprintln!("seeding {count} incidents");
    let docs = data::build_all(&ctx.data, count)?;
    let ids: Vec<DocumentId> = docs.iter().map(|(id, _)| *id).collect();
    let mut seeder = Peer::new("seeder");
    seeder.docs.docs.extend(docs);
    online(&mut seeder, &relay).await?;
    seeder.disconnect().await;
    Ok((relay, ids))
}

fn has_all(peer: &Peer, ids: &[DocumentId]) -> bool {
    ids.iter().all(|id| {
        peer.docs
            .docs
            .get(id)
            .is_some_and(|d| !d.get_heads().is_empty())
    })
}

/// Pushes the first `count` incidents into a running relay.
pub async fn seed(ctx: &Ctx, url: &str, token: &str, count: usize) -> Result<Vec<Value>, String> {
    let docs = data::build_all(&ctx.data, count)?;
    let mut seeder = Peer::new("seeder");
    seeder.docs.docs.extend(docs);
    let start = Instant::now();
    seeder
        .connect(url, TokenIn::Subprotocol(token.to_string()))
        .await
        .map_err(err)?;
    seeder.caught_up(WAIT).await.map_err(err)?;
    seeder.disconnect().await;
    Ok(vec![report(
        "seed",
        &[ms(start.elapsed())],
        json!({ "count": count, "bytes": seeder.traffic.bytes() }),
    )])
}

/// A new device pulls every incident.
pub async fn pull(ctx: &Ctx, count: usize) -> Result<Vec<Value>, String> {
    let (relay, ids) = seeded(ctx, count).await?;
    let (mut times, mut bytes) = (Vec::new(), Vec::new());
    for rep in 0..ctx.reps {
        let mut device = Peer::new(&format!("new-device-{rep}"));
        let start = Instant::now();
        online(&mut device, &relay).await?;
        times.push(ms(start.elapsed()));
        if !has_all(&device, &ids) {
            return Err(format!(
                "rep {rep}: the new device did not get every incident"
            ));
        }
        bytes.push(device.traffic.bytes() as f64);
        device.disconnect().await;
    }
    Ok(vec![report(
        "pull",
        &times,
        json!({ "count": count, "bytes": median(&bytes), "samples_ms": times }),
    )])
}

/// A device with every incident reconnects.
pub async fn reconnect(ctx: &Ctx, count: usize) -> Result<Vec<Value>, String> {
    let (relay, ids) = seeded(ctx, count).await?;
    let mut device = Peer::new("device");
    online(&mut device, &relay).await?;
    if !has_all(&device, &ids) {
        return Err("the device did not get every incident".into());
    }
    let (mut times, mut bytes, mut frames) = (Vec::new(), Vec::new(), Vec::new());
    for rep in 0..ctx.reps {
        device.disconnect().await;
        device.reset_traffic();
        let start = Instant::now();
        online(&mut device, &relay).await?;
        times.push(ms(start.elapsed()));
        if device.client.stats().differing != 0 {
            return Err(format!("rep {rep}: unchanged documents were synced"));
        }
        bytes.push(device.traffic.bytes() as f64);
        frames.push((device.traffic.frames_in + device.traffic.frames_out) as f64);
    }
    Ok(vec![report(
        "reconnect",
        &times,
        json!({ "count": count, "bytes": median(&bytes), "frames": median(&frames), "samples_ms": times }),
    )])
}

/// One offline edit, made through the domain as the app would.
fn edit(peer: &mut Peer, id: &DocumentId, who: &str, k: usize) -> Result<(), String> {
    let cfg = WorkspaceConfig::default();
    let am = peer.docs.docs.remove(id).ok_or("no such document")?;
    let mut doc = IncidentDoc::from_automerge(am).map_err(|e| e.to_string())?;
    let command = if k.is_multiple_of(3) {
        Command::SetDescription(format!("{who}: revised after check {k}"))
    } else {
        Command::AddNote {
            kind: NoteKind::WorkNote,
            body: format!("{who}: finding {k} from the plant room"),
        }
    };
    let at = Attribution::new(who, DeviceTime::from_millis(1_764_000_000_000 + k as i64));
    doc.execute(&command, &at, &cfg)
        .map_err(|e| e.to_string())?;
    peer.docs.docs.insert(*id, doc.into_automerge());
    Ok(())
}

fn sorted_heads(doc: &Automerge) -> Vec<ChangeHash> {
    let mut heads = doc.get_heads();
    heads.sort();
    heads
}

/// Two devices each make `edits` offline edits to shared incidents, then reconnect.
pub async fn converge(ctx: &Ctx, edits: usize, incidents: usize) -> Result<Vec<Value>, String> {
    let (mut times, mut bytes) = (Vec::new(), Vec::new());
    for _ in 0..ctx.reps {
        let (relay, all) = seeded(ctx, incidents).await?;
        let (mut a, mut b) = (Peer::new("alice"), Peer::new("bob"));
        online(&mut a, &relay).await?;
        online(&mut b, &relay).await?;
        // Closed and canceled incidents are read-only; people edit the open ones.
        let ids: Vec<DocumentId> = all
            .into_iter()
            .filter(|id| {
                IncidentDoc::from_automerge(a.docs.docs[id].clone())
                    .and_then(|d| d.read())
                    .is_ok_and(|i| !i.state.is_read_only())
            })
            .collect();
        if ids.is_empty() {
            return Err("the dataset has no open incidents to edit".into());
        }
        a.disconnect().await;
        b.disconnect().await;
        for k in 0..edits {
            edit(&mut a, &ids[k % ids.len()], "alice", k)?;
            edit(&mut b, &ids[(k * 7 + 3) % ids.len()], "bob", k)?;
        }
        // Where both must end up: every change from both.
        let mut expected = Vec::new();
        for id in &ids {
            let mut merged = a.docs.docs[id].clone();
            let mut theirs = b.docs.docs[id].clone();
            merged.merge(&mut theirs).map_err(|e| e.to_string())?;
            expected.push((*id, sorted_heads(&merged)));
        }
        let converged = |p: &Peer| {
            expected
                .iter()
                .all(|(id, heads)| p.docs.docs.get(id).map(sorted_heads).as_ref() == Some(heads))
        };
        a.reset_traffic();
        b.reset_traffic();
        let start = Instant::now();
        let (ra, rb) = tokio::join!(
            async {
                online(&mut a, &relay).await?;
                a.pump_until("convergence", WAIT, converged)
                    .await
                    .map_err(err)
            },
            async {
                online(&mut b, &relay).await?;
                b.pump_until("convergence", WAIT, converged)
                    .await
                    .map_err(err)
            }
        );
        ra?;
        rb?;
        times.push(ms(start.elapsed()));
        bytes.push((a.traffic.bytes() + b.traffic.bytes()) as f64);
    }
    Ok(vec![report(
        "converge",
        &times,
        json!({ "edits_per_peer": edits, "incidents": incidents, "bytes": median(&bytes), "samples_ms": times }),
    )])
}

/// Idle devices connected and caught up: relay memory per connection.
pub async fn idle(ctx: &Ctx, conns: usize) -> Result<Vec<Value>, String> {
    let relay = Relay::start(&ctx.relay, ctx.no_judge)?;
    // Warm up the relay's allocator and its first-connection costs.
    let mut peers = Vec::new();
    for i in 0..10 {
        let mut p = Peer::new(&format!("warm-{i}"));
        online(&mut p, &relay).await?;
        peers.push(p);
    }
    let before = relay.rss()?;
    for i in 0..conns {
        let mut p = Peer::new(&format!("idle-{i}"));
        online(&mut p, &relay).await?;
        peers.push(p);
    }
    let after = relay.rss()?;
    let per_conn = after.saturating_sub(before) as f64 / conns as f64;
    Ok(vec![report(
        "relay-idle",
        &[],
        json!({
            "conns": conns,
            "bytes_per_conn": per_conn.round(),
            "rss_before_mb": before as f64 / 1048576.0,
            "rss_after_mb": after as f64 / 1048576.0,
        }),
    )])
}

/// `clients` devices each send one change a second for `seconds`; an observer device (a full
/// Outpost client, receiving everything) measures how long each change takes to reach it.
///
/// With `scoped`, the senders sync only the incident they write, as automerge-repo clients do;
/// otherwise every sender is a full Outpost client that receives every change in the workspace
/// (`clients`² messages a second, all simulated by this one process).
pub async fn fanout(
    ctx: &Ctx,
    clients: usize,
    seconds: u64,
    docs: usize,
    scoped: bool,
    flood: FloodSpec,
) -> Result<Vec<Value>, String> {
    let (relay, ids) = seeded(ctx, docs).await?;
    let seed: Vec<(DocumentId, Automerge)> = data::build_all(&ctx.data, docs)?;
    let relay = Arc::new(relay);
    let load = FanoutLoad::prepare(&relay, clients).await?;
    let flooding = Flood::start(&relay, flood).await?;
    let (flood, flood_tokens) = (flood.connections, flood.tokens);
    let begin = load.begin;
    // The relay's frame count when the timed part begins, read beside the observer (which must
    // keep reading meanwhile).
    let frames_at_begin = {
        let relay = relay.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(begin.into()).await;
            tokio::task::spawn_blocking(move || relay.stats(None))
                .await
                .map_err(|e| e.to_string())?
                .map(|s| s["frames_in"].as_u64().unwrap_or(0))
        })
    };
    let (sent, latencies) = load.run(&relay, &ids, &seed, seconds, scoped).await?;
    let seen = latencies.len();
    let flooded = flooding.stop().await;
    // The relay's share of the latency, over the frames of the timed part only (connecting and
    // catching up 200 devices is not what is measured).
    let frames_before = frames_at_begin.await.map_err(|e| e.to_string())??;
    let after = relay.stats(None)?["frames_in"].as_u64().unwrap_or(0);
    let stats = relay.stats(Some(after.saturating_sub(frames_before)))?;
    let hub = &stats["hub_delay"];
    let name = match (scoped, flood > 0) {
        (true, false) => "relay-fanout",
        (false, false) => "relay-fanout-full",
        (true, true) => "relay-fanout-flooded",
        (false, true) => "relay-fanout-full-flooded",
    };
    // All the flooders on one token: what the per-token limit holds back.
    let name = if flood > 1 && flood_tokens == 1 {
        format!("{name}-one-token")
    } else {
        name.to_string()
    };
    let mut line = report(
        &name,
        &[],
        json!({
            "clients": clients,
            "senders": if scoped { "scoped to their incident" } else { "full Outpost clients" },
            "seconds": seconds,
            "sent": sent,
            "received": seen,
            "dropped": sent.saturating_sub(seen as u64),
            "p50_ms": (median(&latencies) * 100.0).round() / 100.0,
            "p99_ms": (quantile(&latencies, 0.99) * 100.0).round() / 100.0,
            // The relay's share: from a frame reaching its hub to the answers leaving it.
            "hub_p50_ms": hub["p50_ms"],
            "hub_p99_ms": hub["p99_ms"],
            "hub_max_ms": hub["max_ms"],
            "closed_not_reading": stats["closed_not_reading"],
        }),
    );
    if flood > 0 {
        line["flood_connections"] = json!(flood);
        line["flood_tokens"] = json!(flood_tokens);
        line["flood_frames"] = json!(flooded.frames);
        line["flood_mb"] = json!(flooded.bytes / (1024 * 1024));
        line["flood_closed"] = json!(flooded.closed);
        line["relay_rss_max_mb"] = json!(flooded.rss_max / (1024 * 1024));
    }
    Ok(vec![line])
}

/// Devices each sending a change a second to their incident, and an observer receiving every
/// change: the fan-out workload of issue 6, run alone ([`fanout`]) or beside another load.
pub struct FanoutLoad {
    observer: Peer,
    clients: usize,
    /// When the timed part begins.
    pub begin: Instant,
}

impl FanoutLoad {
    /// Connects the observer; the senders start at [`FanoutLoad::begin`].
    pub async fn prepare(relay: &Relay, clients: usize) -> Result<FanoutLoad, String> {
        let mut observer = Peer::new("observer");
        online(&mut observer, relay).await?;
        let begin =
            Instant::now() + Duration::from_secs(2) + Duration::from_millis(clients as u64 * 5);
        Ok(FanoutLoad {
            observer,
            clients,
            begin,
        })
    }

    /// Runs it for `seconds` over the incidents `ids` (whose histories are `seed`); returns
    /// the changes sent and the latency of each change the observer received, in ms.
    pub async fn run(
        mut self,
        relay: &Arc<Relay>,
        ids: &[DocumentId],
        seed: &[(DocumentId, Automerge)],
        seconds: u64,
        scoped: bool,
    ) -> Result<(u64, Vec<f64>), String> {
        let (clients, begin) = (self.clients, self.begin);
        let sent = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for i in 0..clients {
            let (relay, sent, doc) = (relay.clone(), sent.clone(), ids[i % ids.len()]);
            // A device of its own: the same history under a new actor (a clone would reuse the
            // seed's actor, and two devices writing as one actor is a conflict the relay
            // refuses).
            let copy = seed[i % seed.len()].1.fork();
            tasks.push(tokio::spawn(async move {
                let name = format!("sender-{i}");
                let mut peer = if scoped {
                    let mut peer = Peer::scoped(&name);
                    peer.docs.docs.insert(doc, copy);
                    peer
                } else {
                    Peer::new(&name)
                };
                online(&mut peer, &relay).await?;
                // Spread the senders across each second.
                let offset = Duration::from_millis((i as u64 * 1000) / clients as u64);
                for seq in 0..seconds {
                    let at = begin + Duration::from_secs(seq) + offset;
                    while Instant::now() < at {
                        let left = at.saturating_duration_since(Instant::now());
                        match peer.pump_until("the next tick", left, |_| false).await {
                            Ok(()) | Err(PeerError::Timeout(_)) => {}
                            Err(e) => return Err(e.to_string()),
                        }
                    }
                    let key = format!("c{i}-{seq}");
                    peer.change(doc, move |tx| {
                        tx.put(ROOT, key.as_str(), micros_now()).map(|_| ())
                    })
                    .await
                    .map_err(err)?;
                    sent.fetch_add(1, Ordering::SeqCst);
                }
                // Stay connected until everyone is done, so the relay keeps fanning out to us.
                let _ = peer
                    .pump_until("the end", Duration::from_secs(5), |_| false)
                    .await;
                Ok::<(), String>(())
            }));
        }
        let mut seen: HashSet<String> = HashSet::new();
        let mut latencies = Vec::new();
        let expected = clients as u64 * seconds;
        let stop = begin + Duration::from_secs(seconds + 10);
        let observer = &mut self.observer;
        while (seen.len() as u64) < expected && Instant::now() < stop {
            let left = stop.saturating_duration_since(Instant::now());
            match observer
                .pump_until("a change", left, |p| !p.changed.is_empty())
                .await
            {
                Ok(()) | Err(PeerError::Timeout(_)) => {}
                Err(e) => return Err(e.to_string()),
            }
            let now = micros_now();
            for id in std::mem::take(&mut observer.changed) {
                let Some(doc) = observer.docs.docs.get(&id) else {
                    continue;
                };
                for key in doc.keys(ROOT).filter(|k| k.starts_with('c')) {
                    if seen.contains(&key) {
                        continue;
                    }
                    if let Ok(Some((automerge::Value::Scalar(s), _))) = doc.get(ROOT, key.as_str())
                    {
                        if let automerge::ScalarValue::Int(t) = s.as_ref() {
                            latencies.push((now - t) as f64 / 1000.0);
                            seen.insert(key);
                        }
                    }
                }
            }
        }
        for task in tasks {
            task.await.map_err(|e| e.to_string())??;
        }
        Ok((sent.load(Ordering::SeqCst), latencies))
    }
}

/// Connections that send the largest frames the relay takes, as fast as it reads them, for as
/// long as the workload runs: ephemeral messages about a document nobody has, which the hub must
/// read whole before dropping. Meanwhile the relay's resident memory is sampled.
struct Flood {
    stop: Arc<std::sync::atomic::AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<(u64, u64, bool)>>,
    sampler: tokio::task::JoinHandle<u64>,
}

/// A flood: how many connections, on how many tokens of their own (never the workload's: a
/// flooding device is someone else's sign-in).
#[derive(Clone, Copy, Debug)]
pub struct FloodSpec {
    /// Flooding connections.
    pub connections: usize,
    /// Tokens they use between them.
    pub tokens: usize,
}

/// What a flood did.
struct Flooded {
    frames: u64,
    bytes: u64,
    closed: u64,
    rss_max: u64,
}

/// The largest frame the benchmark's relay takes (its default limit), less room for the
/// message's other fields.
const FLOOD_FRAME: usize = 8 * 1024 * 1024 - 1024;

impl Flood {
    async fn start(relay: &Arc<Relay>, spec: FloodSpec) -> Result<Flood, String> {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut tasks = Vec::new();
        let tokens = if spec.connections == 0 {
            Vec::new()
        } else {
            (0..spec.tokens)
                .map(|t| relay.another_token(&format!("flooder-{t}")))
                .collect::<Result<Vec<_>, _>>()?
        };
        for i in 0..spec.connections {
            let mut peer = Peer::scoped(&format!("flood-{i}"));
            peer.connect(
                &relay.ws,
                TokenIn::Subprotocol(tokens[i % tokens.len()].clone()),
            )
            .await
            .map_err(err)?;
            peer.caught_up(WAIT).await.map_err(err)?;
            let stop = stop.clone();
            tasks.push(tokio::spawn(async move {
                let frame = wire::encode(&Message::Ephemeral {
                    sender_id: peer.client.peer_id().to_string(),
                    target_id: peer.client.relay_id().unwrap_or_default().to_string(),
                    document_id: DocumentId::from_random([0xfe; 16]),
                    data: vec![0; FLOOD_FRAME],
                    count: 1,
                    session_id: format!("flood-{i}"),
                });
                let (mut frames, mut bytes) = (0u64, 0u64);
                while !stop.load(Ordering::Relaxed) {
                    if peer.send_raw(frame.clone()).await.is_err() {
                        return (frames, bytes, true);
                    }
                    frames += 1;
                    bytes += frame.len() as u64;
                }
                (frames, bytes, false)
            }));
        }
        let (for_sampler, relay) = (stop.clone(), relay.clone());
        let sampler = tokio::spawn(async move {
            let mut max = 0;
            while !for_sampler.load(Ordering::Relaxed) {
                max = max.max(relay.rss().unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            max
        });
        Ok(Flood {
            stop,
            tasks,
            sampler,
        })
    }

    async fn stop(self) -> Flooded {
        self.stop.store(true, Ordering::Relaxed);
        let mut done = Flooded {
            frames: 0,
            bytes: 0,
            closed: 0,
            rss_max: self.sampler.await.unwrap_or(0),
        };
        for task in self.tasks {
            if let Ok((frames, bytes, closed)) = task.await {
                done.frames += frames;
                done.bytes += bytes;
                done.closed += u64::from(closed);
            }
        }
        done
    }
}

/// The judge's cost per accepted change: each of `count` incidents receives a work note through
/// the relay's gate, judged by Outpost's rules and, as the baseline in the same run, by a judge
/// that keeps everything. Microseconds, median and p99.
pub fn judge(ctx: &Ctx, count: usize) -> Result<Vec<Value>, String> {
    use outpost_sync::gate::{self, AdmitAll, Judge, RefusedChanges};
    use outpost_sync::hub::Grant;

    let docs = data::build_all(&ctx.data, count)?;
    let grant = Grant {
        user: "bench".into(),
        workspace: "bench".into(),
        role: "agent".into(),
        device: "bench".into(),
        groups: Vec::new(),
    };
    let timed = |judge: &mut dyn Judge| -> Result<Vec<f64>, String> {
        let mut micros = Vec::new();
        for (_, doc) in &docs {
            let mut device = IncidentDoc::from_automerge(doc.fork()).map_err(|e| e.to_string())?;
            let note = device.execute(
                &Command::AddNote {
                    kind: NoteKind::WorkNote,
                    body: "Checked the uplink; replaced the patch cable.".into(),
                },
                &Attribution::new("bench", DeviceTime::from_millis(1_796_000_000_000)),
                &WorkspaceConfig::default(),
            );
            if note.is_err() {
                // Closed and canceled incidents take no notes.
                continue;
            }
            let change = doc
                .get_changes_added(device.automerge())
                .into_iter()
                .map(|c| c.raw_bytes().to_vec())
                .collect::<Vec<_>>();
            let mut message = automerge::sync::Message {
                heads: device.automerge().get_heads(),
                need: vec![],
                have: vec![],
                changes: change.into(),
                flags: None,
                version: automerge::sync::MessageVersion::V1,
            };
            let mut relay = doc.clone();
            let started = Instant::now();
            let passage = gate::pass(
                &outpost_sync::DocumentId::from_random([7; 16]),
                &mut relay,
                &mut message,
                &grant,
                judge,
                &mut RefusedChanges::new(),
            )?;
            if !judge.judges() {
                // Without a judge the gate hands the message on, and Automerge applies it.
                let joined: Vec<u8> = message.changes.iter().flatten().copied().collect();
                relay.load_incremental(&joined).map_err(|e| e.to_string())?;
            }
            micros.push(started.elapsed().as_secs_f64() * 1e6);
            if judge.judges() && passage.accepted.len() != 1 {
                return Err(format!("the note was not kept: {:?}", passage.refused));
            }
        }
        Ok(micros)
    };
    let mut rounds = Vec::new();
    for _ in 0..ctx.reps {
        // Interleaved, so that a noisy moment hits both.
        rounds.push((
            timed(&mut outpost_judge::IncidentJudge::default())?,
            timed(&mut AdmitAll)?,
        ));
    }
    let judged: Vec<f64> = rounds.iter().flat_map(|(j, _)| j.iter().copied()).collect();
    let kept: Vec<f64> = rounds.iter().flat_map(|(_, k)| k.iter().copied()).collect();
    let (jm, jp) = (median(&judged), quantile(&judged, 0.99));
    let (km, kp) = (median(&kept), quantile(&kept, 0.99));
    Ok(vec![report(
        "judge",
        &[],
        json!({
            "changes": judged.len(),
            "median_us": jm.round(),
            "p99_us": jp.round(),
            "unjudged_median_us": km.round(),
            "unjudged_p99_us": kp.round(),
            "judge_median_us": (jm - km).round(),
            "notes": "one work note per incident through the relay's gate: judged by Outpost's rules, and (baseline, interleaved) applied by Automerge with no judge"
        }),
    )])
}
