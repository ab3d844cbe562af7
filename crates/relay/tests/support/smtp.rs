//! A real SMTP server for the notification tests: Debian's aiosmtpd (installed by setup),
//! on 127.0.0.1 and a free port, storing every mail it accepts in a Maildir the test reads.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One mail the server accepted.
#[derive(Clone, Debug)]
pub struct Received {
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

pub struct Smtp {
    child: Option<Child>,
    pub port: u16,
    pub maildir: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Smtp {
    /// Starts a server keeping mail in `maildir`.
    pub fn start(maildir: &Path) -> Smtp {
        let mut s = Smtp {
            child: None,
            port: free_port(),
            maildir: maildir.to_path_buf(),
        };
        s.resume();
        s
    }

    /// The relay's `--smtp-url` for it.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stops it (mail sent now fails to connect).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and Maildir.
    pub fn resume(&mut self) {
        let child = Command::new("aiosmtpd")
            .args(["-n", "-l", &format!("127.0.0.1:{}", self.port)])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&self.maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd runs (scripts/setup.sh installs python3-aiosmtpd)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not start listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every mail accepted so far.
    pub fn received(&self) -> Vec<Received> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut mails = Vec::new();
        for entry in entries.flatten() {
            let bytes = std::fs::read(entry.path()).unwrap();
            let Some(m) = mail_parser::MessageParser::default().parse(&bytes) else {
                continue;
            };
            let to = m
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_string();
            let headers = m
                .headers()
                .iter()
                .map(|h| {
                    (
                        h.name().to_string(),
                        h.value().as_text().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            mails.push(Received {
                to,
                subject: m.subject().unwrap_or_default().to_string(),
                message_id: m.message_id().unwrap_or_default().to_string(),
                headers,
                body: m.body_text(0).unwrap_or_default().to_string(),
            });
        }
        mails
    }

    /// Waits (up to `within`) until the mails accepted satisfy `done`, then returns them.
    pub async fn until(
        &self,
        what: &str,
        within: Duration,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let mails = self.received();
            if done(&mails) {
                return mails;
            }
            if Instant::now() > deadline {
                let seen: Vec<_> = mails.iter().map(|m| (&m.to, &m.subject)).collect();
                panic!("timed out waiting for {what}; received {seen:#?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        self.stop();
    }
}
