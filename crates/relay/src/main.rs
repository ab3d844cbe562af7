//! `outpost-relay`: serve the app and sync incidents. See the crate docs in `lib.rs`.

use std::process::ExitCode;

use clap::Parser;
use outpost_relay::cli::Config;
use outpost_relay::{server, shutdown};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = Config::parse();
    if let Err(e) = server::prepare_data_dir(&config) {
        eprintln!(
            "outpost-relay: cannot use data directory {}: {e}",
            config.data_dir.display()
        );
        return ExitCode::FAILURE;
    }
    if !config.dist.join("index.html").is_file() {
        tracing::warn!(dist = %config.dist.display(), "no built app found; pages will say so until it is built");
    }
    let listener = match TcpListener::bind(config.addr()).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("outpost-relay: cannot listen on {}: {e}", config.addr());
            return ExitCode::FAILURE;
        }
    };
    let url = match listener.local_addr() {
        Ok(addr) => format!("http://{addr}/"),
        Err(e) => {
            eprintln!("outpost-relay: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Scripts and tests read this line to find the port.
    println!("Outpost is running at {url}");
    tracing::info!(%url, data_dir = %config.data_dir.display(), "relay started");
    match server::run(listener, server::app(&config), shutdown::signal()).await {
        Ok(()) => {
            tracing::info!("relay stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("outpost-relay: {e}");
            ExitCode::FAILURE
        }
    }
}
