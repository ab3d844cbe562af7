//! `outpost-peer`: a scripted native device, for interoperability tests.
//!
//! Connects to a relay (Outpost's, or automerge-repo's sync server), fetches a document, sets
//! keys on it, waits until the relay has them, waits until expected values arrive, and prints the
//! document's top-level values as JSON. Exits non-zero, saying why, if anything fails.
//!
//! ```text
//! outpost-peer --url ws://127.0.0.1:8080/sync --token T --doc <id> --set reply="from rust" --expect title="from js"
//! ```

use std::process::ExitCode;
use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{ReadDoc, ROOT};
use clap::Parser;
use outpost_peer::{Peer, TokenIn};
use outpost_sync::DocumentId;

/// A scripted native device.
#[derive(Parser)]
#[command(name = "outpost-peer", version, about)]
struct Args {
    /// The sync endpoint, e.g. ws://127.0.0.1:8080/sync.
    #[arg(long)]
    url: String,
    /// An Outpost token, sent as a subprotocol (as the browser does).
    #[arg(long)]
    token: Option<String>,
    /// The document id (bs58check), or an automerge: URL.
    #[arg(long)]
    doc: String,
    /// The document is new: create it here instead of fetching it.
    #[arg(long)]
    create: bool,
    /// Set a top-level key: key=value. Repeatable.
    #[arg(long = "set")]
    sets: Vec<String>,
    /// Wait until a top-level key has a value: key=value. Repeatable.
    #[arg(long = "expect")]
    expects: Vec<String>,
    /// Seconds to wait for everything.
    #[arg(long, default_value_t = 20)]
    timeout: u64,
}

fn split(pair: &str) -> Result<(String, String), String> {
    pair.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{pair:?} is not key=value"))
}

fn value(peer: &Peer, doc: &DocumentId, key: &str) -> Option<String> {
    let am = peer.docs.docs.get(doc)?;
    match am.get(ROOT, key).ok()?? {
        (automerge::Value::Scalar(s), _) => {
            s.as_str().map(String::from).or_else(|| Some(s.to_string()))
        }
        (automerge::Value::Object(automerge::ObjType::Text), id) => am.text(&id).ok(),
        _ => None,
    }
}

async fn run(args: Args) -> Result<String, String> {
    let doc: DocumentId = if args.doc.starts_with("automerge:") {
        DocumentId::from_url(&args.doc).map_err(|e| e.to_string())?
    } else {
        args.doc
            .parse()
            .map_err(|e: outpost_sync::DocumentIdError| e.to_string())?
    };
    let sets: Vec<(String, String)> = args
        .sets
        .iter()
        .map(|s| split(s))
        .collect::<Result<_, _>>()?;
    let expects: Vec<(String, String)> = args
        .expects
        .iter()
        .map(|s| split(s))
        .collect::<Result<_, _>>()?;
    let wait = Duration::from_secs(args.timeout);
    let mut peer = Peer::new("outpost-peer-cli");
    let token = args.token.map_or(TokenIn::None, TokenIn::Subprotocol);
    peer.connect(&args.url, token)
        .await
        .map_err(|e| e.to_string())?;
    peer.pump_until("the relay's answer", wait, |p| {
        p.client.relay_id().is_some()
    })
    .await
    .map_err(|e| e.to_string())?;
    // Catch-up (reconciliation with Outpost's relay; nothing to do with an empty device elsewhere).
    peer.caught_up(wait).await.map_err(|e| e.to_string())?;
    if !args.create && !peer.docs.docs.contains_key(&doc) {
        peer.fetch(doc).await.map_err(|e| e.to_string())?;
        peer.pump_until("the document", wait, |p| {
            p.docs
                .docs
                .get(&doc)
                .is_some_and(|d| !d.get_heads().is_empty())
        })
        .await
        .map_err(|e| format!("{e} (the relay does not have {doc}, or refuses it)"))?;
    }
    for (key, val) in &sets {
        let (key, val) = (key.clone(), val.clone());
        peer.change(doc, move |tx| {
            tx.put(ROOT, key.as_str(), val.as_str()).map(|_| ())
        })
        .await
        .map_err(|e| e.to_string())?;
    }
    if !sets.is_empty() {
        peer.acknowledged(doc, wait)
            .await
            .map_err(|e| e.to_string())?;
    }
    peer.pump_until("the expected values", wait, |p| {
        expects
            .iter()
            .all(|(k, v)| value(p, &doc, k).as_deref() == Some(v))
    })
    .await
    .map_err(|e| {
        let seen: Vec<String> = expects
            .iter()
            .map(|(k, _)| format!("{k}={:?}", value(&peer, &doc, k)))
            .collect();
        format!("{e}; saw {}", seen.join(", "))
    })?;
    let am = peer.docs.docs.get(&doc).ok_or("the document vanished")?;
    let mut out = serde_json::Map::new();
    for key in am.keys(ROOT) {
        if let Some(v) = value(&peer, &doc, &key) {
            out.insert(key, serde_json::Value::String(v));
        }
    }
    peer.disconnect().await;
    Ok(serde_json::Value::Object(out).to_string())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("outpost-peer: {e}");
            ExitCode::FAILURE
        }
    }
}
