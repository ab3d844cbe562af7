//! `outpost-bench`: Outpost's native sync benchmarks against the real relay binary.
//!
//! Each subcommand starts its own relay on 127.0.0.1, seeds it with incidents from the shared
//! dataset (`bench/data/generate.mjs`), measures, and prints one JSON line per result on stdout
//! (progress goes to stderr). `bench/run.mjs` runs them beside the automerge-repo anchor.
//!
//! ```text
//! outpost-bench --data incidents.json pull --count 1000
//! outpost-bench --data incidents.json reconnect --count 10000
//! outpost-bench --data incidents.json converge --edits 500
//! outpost-bench --data incidents.json idle --conns 1000
//! outpost-bench --data incidents.json fanout --clients 200 --seconds 60
//! outpost-bench --data incidents.json alerts --alerts 10000 --fingerprints 500
//! ```

mod alerts;
mod data;
mod relay;
mod scenarios;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Outpost's native sync benchmarks.
#[derive(Parser)]
#[command(name = "outpost-bench", about)]
struct Args {
    /// The dataset, from `node bench/data/generate.mjs`.
    #[arg(long)]
    data: PathBuf,
    /// The relay binary (default: `outpost-relay` beside this one).
    #[arg(long)]
    relay: Option<PathBuf>,
    /// Repetitions of each timed step.
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Run the relay without its judge (the baseline of the judge's cost).
    #[arg(long)]
    no_judge: bool,
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Pushes the first N incidents into a running relay (for the browser benchmarks).
    Seed {
        /// The relay's sync endpoint, e.g. ws://127.0.0.1:8080/sync.
        #[arg(long)]
        url: String,
        /// A token for the workspace to fill.
        #[arg(long)]
        token: String,
        #[arg(long, default_value_t = 10_000)]
        count: usize,
    },
    /// A new device pulls every incident from the relay.
    Pull {
        #[arg(long, default_value_t = 1000)]
        count: usize,
    },
    /// A device that has every incident reconnects: time and bytes on the wire.
    Reconnect {
        #[arg(long, default_value_t = 10_000)]
        count: usize,
    },
    /// Two devices each make offline edits to shared incidents, then reconnect.
    Converge {
        #[arg(long, default_value_t = 500)]
        edits: usize,
        #[arg(long, default_value_t = 50)]
        incidents: usize,
    },
    /// The judge's cost per accepted change, beside a judge that keeps everything.
    Judge {
        #[arg(long, default_value_t = 1000)]
        count: usize,
    },
    /// Idle connected devices: relay memory per connection.
    Idle {
        #[arg(long, default_value_t = 1000)]
        conns: usize,
    },
    /// Devices each sending a change per second: fan-out latency to an observer.
    Fanout {
        #[arg(long, default_value_t = 200)]
        clients: usize,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        #[arg(long, default_value_t = 10)]
        docs: usize,
        /// Senders are full Outpost clients that receive every change (default: they sync
        /// only the incident they write, as automerge-repo clients do).
        #[arg(long)]
        full: bool,
        /// Connections flooding the relay with its largest frames meanwhile.
        #[arg(long, default_value_t = 0)]
        flood: usize,
        /// How many tokens the flooding connections use between them (default: one each; 1:
        /// all on one token, which the relay's per-token limit then holds back as a whole).
        #[arg(long)]
        flood_tokens: Option<usize>,
    },
    /// A burst of Alertmanager webhooks over a few hundred alert identities, with the fan-out
    /// workload running beside it.
    Alerts {
        #[arg(long, default_value_t = 10_000)]
        alerts: usize,
        #[arg(long, default_value_t = 500)]
        fingerprints: usize,
        /// Posts in flight at once.
        #[arg(long, default_value_t = 32)]
        senders: usize,
        /// Fan-out devices meanwhile.
        #[arg(long, default_value_t = 200)]
        clients: usize,
        #[arg(long, default_value_t = 10)]
        docs: usize,
        /// How long the fan-out runs, in seconds.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let relay = args.relay.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join("outpost-relay")))
            .unwrap_or_else(|| PathBuf::from("outpost-relay"))
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("outpost-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let data = data::Dataset::read(&args.data)?;
        let ctx = scenarios::Ctx {
            relay,
            data,
            reps: args.reps.max(1),
            no_judge: args.no_judge,
        };
        match args.bench {
            Bench::Seed { url, token, count } => scenarios::seed(&ctx, &url, &token, count).await,
            Bench::Pull { count } => scenarios::pull(&ctx, count).await,
            Bench::Reconnect { count } => scenarios::reconnect(&ctx, count).await,
            Bench::Converge { edits, incidents } => {
                scenarios::converge(&ctx, edits, incidents).await
            }
            Bench::Idle { conns } => scenarios::idle(&ctx, conns).await,
            Bench::Alerts {
                alerts,
                fingerprints,
                senders,
                clients,
                docs,
                seconds,
            } => {
                let b = alerts::Burst {
                    alerts,
                    fingerprints,
                    senders,
                    clients,
                    docs,
                    seconds,
                };
                alerts::burst(&ctx, &b).await
            }
            Bench::Judge { count } => scenarios::judge(&ctx, count),
            Bench::Fanout {
                clients,
                seconds,
                docs,
                full,
                flood,
                flood_tokens,
            } => {
                let flood = scenarios::FloodSpec {
                    connections: flood,
                    tokens: flood_tokens.unwrap_or(flood).clamp(1, flood.max(1)),
                };
                scenarios::fanout(&ctx, clients, seconds, docs, !full, flood).await
            }
        }
    });
    match result {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("outpost-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
