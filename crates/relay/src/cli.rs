//! The relay's command line.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::Parser;

/// Serve the Outpost app and sync incidents between devices.
#[derive(Debug, Clone, Parser)]
#[command(name = "outpost-relay", version, about)]
pub struct Config {
    /// Address to listen on. Loopback by default; use 0.0.0.0 to accept other devices.
    #[arg(long, env = "OUTPOST_HOST", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,

    /// Port to listen on; 0 picks a free port (printed at start-up).
    #[arg(long, env = "OUTPOST_PORT", default_value_t = 8080)]
    pub port: u16,

    /// The built app (Trunk's dist directory).
    #[arg(long, env = "OUTPOST_DIST", default_value = "dist")]
    pub dist: PathBuf,

    /// Where the relay keeps its data. Created if missing.
    #[arg(long, env = "OUTPOST_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
}

impl Config {
    /// The socket address to bind.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }
}
