//! The real relay binary, started for one benchmark: 127.0.0.1, an ephemeral port, a fresh data
//! directory, a token for the benchmark workspace, its resident memory from /proc and its own
//! statistics from `/api/stats`.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running relay; stopped (SIGKILL) and its data removed when dropped.
pub struct Relay {
    child: Child,
    dir: PathBuf,
    bin: PathBuf,
    /// `ws://127.0.0.1:PORT/sync`.
    pub ws: String,
    /// A token for the `bench` workspace.
    pub token: String,
}

impl Relay {
    /// Starts `bin` (the `outpost-relay` binary) with its own data directory, its judge off if
    /// `no_judge`.
    pub fn start(bin: &Path, no_judge: bool) -> Result<Relay, String> {
        Relay::start_with(bin, no_judge, &[])
    }

    /// Starts it with `extra` arguments too.
    pub fn start_with(bin: &Path, no_judge: bool, extra: &[&str]) -> Result<Relay, String> {
        let dir = std::env::temp_dir().join(format!(
            "outpost-bench-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let (data, dist) = (dir.join("data"), dir.join("dist"));
        std::fs::create_dir_all(&dist).map_err(|e| e.to_string())?;
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><title>Outpost</title>",
        )
        .map_err(|e| e.to_string())?;
        let token = Command::new(bin)
            // The seeded history closes and cancels incidents: a manager's work.
            .args([
                "token",
                "create",
                "--workspace",
                "bench",
                "--user",
                "bench",
                "--role",
                "manager",
            ])
            .arg("--data-dir")
            .arg(&data)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        if !token.status.success() {
            return Err(format!(
                "token create failed: {}",
                String::from_utf8_lossy(&token.stderr)
            ));
        }
        let token = String::from_utf8_lossy(&token.stdout).trim().to_string();
        let mut child = Command::new(bin)
            .args(["--host", "127.0.0.1", "--port", "0"])
            .arg("--data-dir")
            .arg(&data)
            .arg("--dist")
            .arg(&dist)
            // Benchmarks send faster than a person; the flood limit is not what is measured.
            .args(["--rate-limit", "100000", "--rate-burst", "100000"])
            // Every simulated device shares the benchmark's one token.
            .args([
                "--max-connections-per-token",
                "100000",
                "--max-connections",
                "100000",
            ])
            .args(no_judge.then_some("--no-judge"))
            .args(extra)
            .env(
                "RUST_LOG",
                std::env::var("OUTPOST_BENCH_RELAY_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().ok_or("no stdout")?)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let url = line
            .trim()
            .strip_prefix("Outpost is running at ")
            .ok_or_else(|| format!("the relay said {line:?}"))?
            .trim_end_matches('/');
        let ws = format!("{}/sync", url.replacen("http://", "ws://", 1));
        Ok(Relay {
            child,
            dir,
            bin: bin.to_path_buf(),
            ws,
            token,
        })
    }

    /// Another token for the `bench` workspace, of `user` (an agent), issued while it runs.
    pub fn another_token(&self, user: &str) -> Result<String, String> {
        self.cli(&["token", "create", "--workspace", "bench", "--user", user])
    }

    /// An integration key of `kind` for the `bench` workspace, issued while it runs.
    pub fn integration(&self, kind: &str) -> Result<String, String> {
        self.cli(&[
            "integration",
            "create",
            "--workspace",
            "bench",
            "--kind",
            kind,
            "--name",
            "bench",
        ])
    }

    /// Runs an `outpost-relay` subcommand on this relay's data; what it printed, trimmed.
    fn cli(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(&self.bin)
            .args(args)
            .arg("--data-dir")
            .arg(self.dir.join("data"))
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.bin.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} failed: {}",
                args[..2].join(" "),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The relay's `host:port`.
    pub fn addr(&self) -> String {
        self.ws
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string()
    }

    /// The relay's own statistics (`/api/stats`): its counters and how long frames waited in the
    /// hub, which tells the relay's share of a latency from the load generator's.
    /// `frames` limits the delays to the last so many frames.
    pub fn stats(&self, frames: Option<u64>) -> Result<serde_json::Value, String> {
        let addr = self.addr();
        let mut stream = std::net::TcpStream::connect(&addr).map_err(|e| e.to_string())?;
        write!(
            stream,
            "GET /api/stats{} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n",
            frames.map(|n| format!("?frames={n}")).unwrap_or_default()
        )
        .map_err(|e| e.to_string())?;
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .map_err(|e| e.to_string())?;
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .ok_or("no body in the stats response")?;
        serde_json::from_str(body).map_err(|e| format!("stats: {e}: {body}"))
    }

    /// The relay process's resident set size, in bytes.
    pub fn rss(&self) -> Result<u64, String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .map_err(|e| e.to_string())?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .ok_or_else(|| "no VmRSS".to_string())
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
