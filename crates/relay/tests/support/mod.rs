//! Runs the real relay binary for tests: 127.0.0.1, an ephemeral port, a temporary data
//! directory, and a way to stop it gently (SIGTERM) or not (SIGKILL).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub mod smtp;

use automerge::transaction::Transactable;
use automerge::{ObjType, ReadDoc, ROOT};
use outpost_peer::Peer;
use outpost_sync::DocumentId;

pub const BIN: &str = env!("CARGO_BIN_EXE_outpost-relay");

pub struct Relay {
    pub child: Child,
    pub port: u16,
    pub data: PathBuf,
    pub dist: PathBuf,
    extra: Vec<String>,
    /// Where its log goes, at debug level (`None`: warnings, discarded).
    pub log: Option<PathBuf>,
}

/// A minimal built app under `root` (an index.html), for relays that serve one.
pub fn dist_dir(root: &Path) -> PathBuf {
    let dist = root.join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>Outpost</title>",
    )
    .unwrap();
    dist
}

impl Relay {
    /// Starts a relay with a fresh data directory under `root`.
    pub fn start(root: &Path, extra: &[&str]) -> Relay {
        let data = root.join("data");
        let dist = dist_dir(root);
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        Self::spawn(data, dist, 0, extra, None)
    }

    /// Starts a relay on an existing data directory.
    pub fn start_on(data: PathBuf, root: &Path, extra: &[&str]) -> Relay {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        Self::spawn(data, dist_dir(root), 0, extra, None)
    }

    /// Starts one that logs everything, at debug level, to `root/relay.log`.
    pub fn start_logging(root: &Path, extra: &[&str]) -> Relay {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let log = root.join("relay.log");
        Self::spawn(root.join("data"), dist_dir(root), 0, extra, Some(log))
    }

    fn spawn(
        data: PathBuf,
        dist: PathBuf,
        port: u16,
        extra: Vec<String>,
        log: Option<PathBuf>,
    ) -> Relay {
        let (level, stderr) = match &log {
            Some(path) => ("debug", Stdio::from(std::fs::File::create(path).unwrap())),
            None => ("warn", Stdio::null()),
        };
        let mut child = Command::new(BIN)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--data-dir")
            .arg(&data)
            .arg("--dist")
            .arg(&dist)
            .args(&extra)
            .env("RUST_LOG", level)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("the relay binary starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("Outpost is running at ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        let port = url
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        Relay {
            child,
            port,
            data,
            dist,
            extra,
            log,
        }
    }

    pub fn ws(&self) -> String {
        format!("ws://127.0.0.1:{}/sync", self.port)
    }

    /// Issues an agent's token through the CLI, as an operator would.
    pub fn token(&self, workspace: &str, user: &str) -> String {
        self.printed(&["token", "create", "--workspace", workspace, "--user", user])
    }

    /// Issues a token of `role` through the CLI.
    pub fn token_of(&self, workspace: &str, user: &str, role: &str) -> String {
        self.printed(&[
            "token",
            "create",
            "--workspace",
            workspace,
            "--user",
            user,
            "--role",
            role,
        ])
    }

    /// Runs a subcommand that must succeed; what it printed, trimmed.
    pub fn printed(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// Runs an `outpost-relay` subcommand on this relay's data, as an operator would.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(BIN)
            .args(args)
            .arg("--data-dir")
            .arg(&self.data)
            .output()
            .unwrap()
    }

    /// The listed id of `user`'s token, from `token list`.
    pub fn token_id(&self, user: &str) -> String {
        let listing = String::from_utf8(self.cli(&["token", "list"]).stdout).unwrap();
        listing
            .lines()
            .find(|l| l.split('\t').nth(2) == Some(user))
            .unwrap_or_else(|| panic!("{user} is not in {listing}"))
            .split('\t')
            .next()
            .unwrap()
            .to_string()
    }

    pub fn kill_9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("the relay did not stop after SIGTERM");
    }

    /// Starts again on the same port and data.
    pub fn restart(self) -> Relay {
        Self::spawn(
            self.data.clone(),
            self.dist.clone(),
            self.port,
            self.extra.clone(),
            self.log.clone(),
        )
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 GET: status and body.
pub async fn http_get(port: u16, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    http_request(port, "GET", path, headers).await
}

/// A minimal HTTP/1.1 request with no body: status and body.
pub async fn http_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    http_send(port, method, path, headers, "").await
}

/// A minimal HTTP/1.1 POST of JSON: status and the answer, parsed.
#[allow(dead_code)]
pub async fn http_post_json(
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let mut with_type = vec![("Content-Type", "application/json")];
    with_type.extend_from_slice(headers);
    let (status, text) = http_send(port, "POST", path, &with_type, &body.to_string()).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

/// A minimal HTTP/1.1 request: status and body.
pub async fn http_send(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let (status, _, body) = http_send_full(port, method, path, headers, body).await;
    (status, body)
}

/// A minimal HTTP/1.1 request: status, the response's header lines, and body.
pub async fn http_send_full(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    // A server may answer (413) before reading all of a large body and close: keep what it said.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .map(|(h, b)| (h.to_string(), b.to_string()))
        .unwrap_or_default();
    (status, head, body)
}

/// Writes edits into a workspace's document as its admin's device would, and waits until the
/// relay has stored them.
pub async fn edit_workspace(
    relay: &Relay,
    workspace: &str,
    edits: &[outpost_core::workspace::Edit],
) {
    use outpost_peer::{Peer, TokenIn};
    let token = relay.token_of(workspace, "Ada Admin", "admin");
    let (_, session) = http_get(
        relay.port,
        "/api/session",
        &[("Authorization", &format!("Bearer {token}"))],
    )
    .await;
    let session: serde_json::Value = serde_json::from_str(&session).unwrap();
    let id: outpost_sync::DocumentId = session["workspace_document"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut ws = outpost_core::workspace::WorkspaceDoc::new();
    let at = outpost_core::DeviceTime::from_millis(1_765_000_000_000);
    ws.apply(edits, &outpost_core::Attribution::new("Ada Admin", at))
        .unwrap();
    let mut ada = Peer::new("ada");
    ada.connect(&relay.ws(), TokenIn::Subprotocol(token))
        .await
        .unwrap();
    ada.caught_up(Duration::from_secs(10)).await.unwrap();
    ada.docs.docs.insert(id, ws.automerge().clone());
    ada.change(id, |_| Ok(())).await.unwrap();
    ada.pump_until("the workspace stored", Duration::from_secs(10), |p| {
        p.acknowledged.contains(&id) || !p.changes_refused.is_empty()
    })
    .await
    .unwrap();
    assert_eq!(ada.changes_refused, vec![]);
}

/// A device of `workspace` watching it (an agent, "Wendy Watch"), caught up with the relay.
pub async fn watcher(relay: &Relay, workspace: &str) -> outpost_peer::Peer {
    use outpost_peer::{Peer, TokenIn};
    let token = relay.token(workspace, "Wendy Watch");
    let mut peer = Peer::new("wendy");
    peer.connect(&relay.ws(), TokenIn::Subprotocol(token))
        .await
        .unwrap();
    peer.caught_up(Duration::from_secs(10)).await.unwrap();
    peer
}

/// A test document id: `n` in its first bytes.
pub fn doc(n: u32) -> DocumentId {
    let mut b = [0u8; 16];
    b[..4].copy_from_slice(&n.to_be_bytes());
    b[15] = 0x55;
    DocumentId::from_bytes(b)
}

/// A document with a title and an empty list of notes (not an incident: the relays these
/// helpers serve run without the judge, or the test is about storage).
pub async fn create(peer: &mut Peer, id: DocumentId, title: &str) {
    let title = title.to_string();
    peer.change(id, move |tx| {
        tx.put(ROOT, "title", title.as_str())?;
        tx.put_object(ROOT, "notes", ObjType::List)?;
        Ok(())
    })
    .await
    .unwrap();
}

/// Appends a note.
pub async fn note(peer: &mut Peer, id: DocumentId, text: &str) {
    let text = text.to_string();
    peer.change(id, move |tx| {
        let (_, notes) = tx.get(ROOT, "notes")?.expect("created with notes");
        let n = tx.length(&notes);
        tx.insert(&notes, n, text.as_str())?;
        Ok(())
    })
    .await
    .unwrap();
}

/// The notes a peer holds, sorted.
pub fn notes(peer: &Peer, id: &DocumentId) -> Vec<String> {
    let Some(am) = peer.docs.docs.get(id) else {
        return vec![];
    };
    let Some((_, list)) = am.get(ROOT, "notes").unwrap() else {
        return vec![];
    };
    let mut all: Vec<String> = (0..am.length(&list))
        .filter_map(|i| {
            am.get(&list, i)
                .unwrap()
                .and_then(|(v, _)| v.as_str().map(String::from))
        })
        .collect();
    all.sort();
    all
}
