//! The relay's command line: serve (the default), or manage tokens.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use outpost_sync::hub::Grant;

use crate::connection::Limits;

/// Serve the Outpost app and sync incidents between devices.
#[derive(Debug, Parser)]
#[command(name = "outpost-relay", version, about)]
pub struct Cli {
    /// How to serve (when no subcommand is given).
    #[command(flatten)]
    pub serve: Config,
    /// A subcommand; without one, the relay serves.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Issue, list and revoke access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Invite people: one-time links that sign a device in.
    #[command(subcommand)]
    Invite(InviteCommand),
    /// Create, list and revoke integration keys: monitoring tools that post alerts.
    #[command(subcommand)]
    Integration(IntegrationCommand),
    /// Notifications: chat webhooks, the outbox and its dead letters.
    #[command(subcommand)]
    Notify(NotifyCommand),
    /// Take a consistent backup of the data directory into one file, while the relay serves.
    Backup {
        /// The file to write.
        #[arg(long)]
        to: PathBuf,
    },
    /// Bring a backup back (the relay must be stopped); the databases it replaces are moved
    /// aside, not deleted.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
    },
    /// Show which token delivered each change of an incident and when it arrived.
    Audit {
        /// The incident's reference number (INC-7F3A-0042) or document id.
        incident: String,
    },
}

/// Token subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token granting a user access to a workspace; prints the token once.
    Create {
        /// Whom it is for.
        #[command(flatten)]
        person: Person,
        /// How long it lives unless used, as 90d, 12h, 30m or 45s; each connection renews it
        /// for as long again.
        #[arg(long, default_value = "90d", value_parser = parse_lifetime)]
        expires: i64,
    },
    /// List tokens (their ids, never the tokens).
    List,
    /// Change a token's role (takes effect when its device next connects).
    Role {
        /// The id shown by `token list` (all of it).
        id: String,
        /// The new role: viewer, agent, manager or admin.
        #[arg(value_parser = parse_role)]
        role: outpost_core::Role,
    },
    /// Set a token's groups, comma-separated; empty for none (takes effect when its device next
    /// connects).
    Groups {
        /// The id shown by `token list` (all of it).
        id: String,
        /// The groups, for example "security,network".
        #[arg(value_parser = parse_groups)]
        groups: Groups,
    },
    /// Revoke a token by its id from `token list`; its open connections close within a second.
    Revoke {
        /// The id shown by `token list` (all of it).
        id: String,
    },
}

/// Whom a token or an invitation is for.
#[derive(Debug, Clone, Args)]
pub struct Person {
    /// The workspace.
    #[arg(long)]
    pub workspace: String,
    /// The person (their name, as recorded on their changes).
    #[arg(long)]
    pub user: String,
    /// What they may do: viewer, agent, manager or admin.
    #[arg(long, default_value = "agent", value_parser = parse_role)]
    pub role: outpost_core::Role,
    /// The groups they belong to, comma-separated (who may read incidents restricted to those
    /// groups).
    #[arg(long, default_value = "", value_parser = parse_groups)]
    pub groups: Groups,
}

impl Person {
    /// What it grants, names trimmed; refused when the workspace or the user is empty.
    pub fn grant(&self) -> Result<Grant, String> {
        let (workspace, user) = (self.workspace.trim(), self.user.trim());
        if workspace.is_empty() || user.is_empty() {
            return Err("--workspace and --user must not be empty".into());
        }
        Ok(Grant {
            user: user.to_string(),
            workspace: workspace.to_string(),
            role: self.role.key().to_string(),
            device: String::new(),
            groups: self.groups.0.clone(),
        })
    }
}

/// Integration subcommands.
#[derive(Debug, Subcommand)]
pub enum IntegrationCommand {
    /// Create an integration key for a monitoring tool posting into a workspace; prints the key
    /// once (only its hash is kept).
    Create {
        /// The workspace its alerts open incidents in.
        #[arg(long)]
        workspace: String,
        /// What posts with it: alertmanager, grafana, events (Events API v2) or mail (an inbound
        /// mail webhook).
        #[arg(long, value_parser = parse_kind)]
        kind: outpost_automation::payload::Kind,
        /// Its name, which its changes are authored under ("Alertmanager: prod-eu").
        #[arg(long)]
        name: String,
    },
    /// List integrations (their ids, never their keys).
    List,
    /// Revoke an integration by its id; its key stops working at once.
    Revoke {
        /// The id shown by `integration list`.
        id: String,
    },
}

/// Notification subcommands.
#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Post a workspace's notifications to a Slack or Microsoft Teams incoming webhook.
    HookAdd {
        /// The workspace whose notifications it posts.
        #[arg(long)]
        workspace: String,
        /// slack or teams.
        #[arg(long, value_parser = parse_hook_kind)]
        kind: outpost_automation::deliver::HookKind,
        /// The webhook's URL, as the chat gave it.
        #[arg(long)]
        url: url::Url,
    },
    /// List the webhooks (their ids and kinds, never their URLs, which are secrets).
    Hooks {
        /// The workspace.
        #[arg(long)]
        workspace: String,
    },
    /// Stop posting to a webhook.
    HookRemove {
        /// The id shown by `notify hooks`.
        id: String,
    },
    /// How many notices are pending, sent and dead.
    Status,
    /// The deliveries given up, newest first, with why.
    Dead {
        /// Only this workspace's.
        #[arg(long)]
        workspace: Option<String>,
    },
    /// Put a dead letter back in the queue (after fixing the address or the server).
    Retry {
        /// Its id, as `notify dead` shows it.
        id: i64,
    },
}

fn parse_hook_kind(text: &str) -> Result<outpost_automation::deliver::HookKind, String> {
    outpost_automation::deliver::HookKind::parse(text)
        .ok_or_else(|| format!("\"{text}\" is not a kind of webhook: use slack or teams"))
}

fn parse_kind(text: &str) -> Result<outpost_automation::payload::Kind, String> {
    outpost_automation::payload::Kind::from_key(text.trim()).ok_or_else(|| {
        format!(
            "\"{text}\" is not a kind of integration: use alertmanager, grafana, events or mail"
        )
    })
}

/// Invitation subcommands.
#[derive(Debug, Subcommand)]
pub enum InviteCommand {
    /// Invite a person to a workspace: prints a one-time link (and its QR code) that signs in
    /// the device that opens it, with a token of its own.
    Create {
        /// Whom it is for.
        #[command(flatten)]
        person: Person,
        /// How long the link works unless used, as 7d, 12h or 30m (at most 30 days).
        #[arg(long, default_value = "7d", value_parser = parse_lifetime)]
        expires: i64,
        /// The address people open Outpost at, for the link.
        #[arg(
            long,
            env = "OUTPOST_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        url: String,
    },
    /// List invitations (open, spent and expired); never their links.
    List {
        /// Only this workspace's.
        #[arg(long)]
        workspace: Option<String>,
    },
    /// Withdraw an open invitation by its id from `invite list`; its link stops working.
    Withdraw {
        /// The id shown by `invite list`.
        id: String,
    },
}

/// A lifetime as typed (`90d`, `12h`, `30m`, `45s`), in seconds.
pub fn parse_lifetime(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number
        .parse()
        .map_err(|_| format!("\"{text}\" is not a lifetime; write it as 90d, 12h, 30m or 45s"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" | "" => 86_400,
        other => return Err(format!("\"{other}\" is not a unit; use d, h, m or s")),
    };
    if n <= 0 {
        return Err("a token must live for some time".to_string());
    }
    Ok(n.saturating_mul(unit))
}

/// Checked group names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Groups(pub Vec<String>);

fn parse_groups(text: &str) -> Result<Groups, String> {
    outpost_core::access::typed_groups(text)
        .map(Groups)
        .map_err(|e| e.message)
}

#[cfg(test)]
mod tests {
    use super::parse_lifetime;

    #[test]
    fn lifetimes_read_in_days_hours_minutes_and_seconds() {
        assert_eq!(parse_lifetime("90d"), Ok(90 * 86_400));
        assert_eq!(parse_lifetime("12h"), Ok(12 * 3600));
        assert_eq!(parse_lifetime("7"), Ok(7 * 86_400));
        assert_eq!(parse_lifetime("45s"), Ok(45));
        assert!(parse_lifetime("0d").is_err());
        assert!(parse_lifetime("3w").unwrap_err().contains("unit"));
        assert!(parse_lifetime("soon").is_err());
    }
}

fn parse_role(text: &str) -> Result<outpost_core::Role, String> {
    outpost_core::Role::from_key(text.trim())
        .ok_or_else(|| format!("\"{text}\" is not a role; use viewer, agent, manager or admin"))
}

/// How the relay serves.
#[derive(Debug, Clone, Args)]
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

    /// Where the relay keeps its data (created if missing).
    #[arg(long, env = "OUTPOST_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Development mode: hand a token for the `default` workspace to anyone on this machine.
    #[arg(long, env = "OUTPOST_DEV")]
    pub dev: bool,

    /// Largest WebSocket frame accepted, in bytes.
    #[arg(long, default_value_t = Limits::default().max_frame_bytes)]
    pub max_frame_bytes: usize,

    /// Sustained messages per second per connection.
    #[arg(long, default_value_t = Limits::default().messages_per_second)]
    pub rate_limit: u32,

    /// Messages per connection allowed in a burst.
    #[arg(long, default_value_t = Limits::default().burst)]
    pub rate_burst: u32,

    /// Sustained bytes per second per connection; a connection over it is read more slowly.
    #[arg(long, default_value_t = Limits::default().bytes_per_second)]
    pub byte_rate_limit: usize,

    /// Bytes per connection allowed in a burst (at least one largest frame).
    #[arg(long, default_value_t = Limits::default().bytes_burst)]
    pub byte_rate_burst: usize,

    /// Open sync connections one token may have (tabs, reconnecting devices).
    #[arg(long, default_value_t = 64)]
    pub max_connections_per_token: usize,

    /// How often the workspaces' timed rules (auto-close, escalation) run, in seconds.
    #[arg(long, default_value_t = 60)]
    pub housekeeping_every: u64,

    /// Where people reach this relay's app (`https://outpost.example.org/`), for the links in
    /// notifications; the address it listens on by default.
    #[arg(long, env = "OUTPOST_PUBLIC_URL")]
    pub public_url: Option<url::Url>,

    /// The mail server notifications go through: `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS), `smtps://user:pass@host` (TLS), or `smtp://127.0.0.1:25` (a local one,
    /// unencrypted). Without it, mail notices wait in the outbox. Keep credentials in the
    /// environment, not on the command line.
    #[arg(long, env = "OUTPOST_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Who notification mails come from.
    #[arg(
        long,
        env = "OUTPOST_SMTP_FROM",
        default_value = "Outpost <outpost@localhost>"
    )]
    pub smtp_from: String,

    /// Alert deliveries one integration key may post per second.
    #[arg(long, default_value_t = outpost_automation::DELIVERIES_PER_SECOND)]
    pub alert_rate: u32,

    /// Alert deliveries one integration key may post in a burst above that rate.
    #[arg(long, default_value_t = outpost_automation::DELIVERY_BURST)]
    pub alert_burst: u32,

    /// Open sync connections in all.
    #[arg(long, default_value_t = 10_000)]
    pub max_connections: usize,

    /// How long the token of a device that joins by invitation lives unless used, as 90d, 12h
    /// or 30m; each connection renews it for as long again.
    #[arg(long, env = "OUTPOST_TOKEN_LIFETIME", default_value = "90d", value_parser = parse_lifetime)]
    pub token_lifetime: i64,

    /// Documents kept in memory; the rest are read from storage when needed.
    #[arg(long, default_value_t = 5_000)]
    pub memory_documents: usize,

    /// Keep every change without judging it (benchmarks compare the judge's cost this way).
    #[arg(long, hide = true)]
    pub no_judge: bool,

    /// Other sites whose pages may open a sync connection (`https://desk.example.com`), besides
    /// the relay's own; repeat or separate with commas. A browser sends its page's origin, and
    /// one not allowed is refused, so another site cannot sync with a person's sign-in.
    #[arg(
        long = "allow-origin",
        env = "OUTPOST_ALLOW_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,
}

impl Config {
    /// Defaults with this app and data directory (tests and embedding).
    pub fn new(dist: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Config {
        Config {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            dist: dist.into(),
            data_dir: data_dir.into(),
            dev: false,
            max_frame_bytes: Limits::default().max_frame_bytes,
            rate_limit: Limits::default().messages_per_second,
            rate_burst: Limits::default().burst,
            byte_rate_limit: Limits::default().bytes_per_second,
            byte_rate_burst: Limits::default().bytes_burst,
            memory_documents: 5_000,
            token_lifetime: crate::storage::DEFAULT_LIFETIME,
            max_connections_per_token: 64,
            housekeeping_every: 60,
            public_url: None,
            smtp_url: None,
            smtp_from: "Outpost <outpost@localhost>".into(),
            alert_rate: outpost_automation::DELIVERIES_PER_SECOND,
            alert_burst: outpost_automation::DELIVERY_BURST,
            max_connections: 10_000,
            no_judge: false,
            allowed_origins: Vec::new(),
        }
    }

    /// The socket address to bind.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    /// The per-connection limits.
    pub fn limits(&self) -> Limits {
        Limits {
            max_frame_bytes: self.max_frame_bytes,
            messages_per_second: self.rate_limit,
            burst: self.rate_burst,
            bytes_per_second: self.byte_rate_limit,
            bytes_burst: self.byte_rate_burst,
        }
    }
}
