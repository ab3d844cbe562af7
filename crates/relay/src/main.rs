//! `outpost-relay`: serve the app and sync incidents, or manage tokens. See `lib.rs`.

use std::process::ExitCode;

use clap::Parser;
use outpost_relay::auth::new_token;
use outpost_relay::cli::{
    Cli, Command, Config, IntegrationCommand, InviteCommand, NotifyCommand, TokenCommand,
};
use outpost_relay::server::{self, RelayState, DEV_WORKSPACE};
use outpost_relay::shutdown;
use outpost_relay::storage::{Revoke, Storage};
use outpost_sync::hub::Grant;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("outpost-relay: {message}");
    ExitCode::FAILURE
}

/// `1 document`, `3 documents`.
fn documents(n: i64) -> String {
    format!("{n} document{}", if n == 1 { "" } else { "s" })
}

/// Now, in seconds since the epoch.
fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The relay's storage in the configured data directory, or the exit that says why not.
fn open_storage(config: &Config) -> Result<Storage, ExitCode> {
    Storage::open(&config.data_dir)
        .map_err(|e| fail(format!("cannot open {}: {e}", config.data_dir.display())))
}

fn tokens(config: &Config, command: TokenCommand) -> ExitCode {
    let storage = match open_storage(config) {
        Ok(s) => s,
        Err(failed) => return failed,
    };
    let now = now_seconds();
    match command {
        TokenCommand::Create { person, expires } => {
            let grant = match person.grant() {
                Ok(g) => g,
                Err(e) => return fail(e),
            };
            let token = new_token();
            if let Err(e) = storage.add_token_for(&token, &grant, now, expires) {
                return fail(e);
            }
            println!("{token}");
            let Grant { user, workspace, .. } = &grant;
            let role = person.role;
            let groups = match grant.groups.as_slice() {
                [] => String::new(),
                some => format!(", groups {}", some.join(", ")),
            };
            eprintln!(
                "Token for {user} ({}{groups}) in workspace {workspace}. It is shown only now; store it safely.",
                role.key()
            );
        }
        TokenCommand::List => match storage.tokens() {
            Ok(list) => {
                println!("id\tworkspace\tuser\trole\tgroups\tstate\texpires\tdevice\tlast seen");
                for t in list {
                    let state = t.state(now);
                    let expires = match t.expires_at {
                        Some(at) if state == "active" => format!("in {} days unless used", (at - now) / 86_400),
                        None if state == "active" => "never".to_string(),
                        _ => "-".to_string(),
                    };
                    let device = if t.device_name.is_empty() { "-".to_string() } else { t.device_name.clone() };
                    let seen = t.last_seen.map_or("never".to_string(), |at| ago(now - at));
                    let groups = if t.grant.groups.is_empty() {
                        "-".to_string()
                    } else {
                        t.grant.groups.join(",")
                    };
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        t.id, t.grant.workspace, t.grant.user, t.grant.role, groups, state, expires, device, seen
                    );
                }
            }
            Err(e) => return fail(e),
        },
        TokenCommand::Role { id, role } => match storage.set_role(&id, role.key()) {
            Ok(true) => println!("token {id} is now {}", role.key()),
            Ok(false) => {
                return fail(format!(
                    "no active token has the id {id:?} (see `token list`)"
                ))
            }
            Err(e) => return fail(e),
        },
        TokenCommand::Groups { id, groups } => match storage.set_groups(&id, &groups.0) {
            Ok(true) if groups.0.is_empty() => println!("token {id} is now in no group"),
            Ok(true) => println!("token {id} is now in {}", groups.0.join(", ")),
            Ok(false) => {
                return fail(format!(
                    "no active token has the id {id:?} (see `token list`)"
                ))
            }
            Err(e) => return fail(e),
        },
        TokenCommand::Revoke { id } => match storage.revoke(&id, now) {
            Ok(Revoke::Revoked) => {
                println!("revoked token {id}; its open connections close within a second")
            }
            Ok(Revoke::Unknown) => {
                return fail(format!(
                    "no active token has the id {id:?} (see `token list`)"
                ))
            }
            Ok(Revoke::NotWhole(ids)) => {
                return fail(format!(
                    "{id:?} is only the start of an id ({}); nothing was revoked. Give the whole id from `token list`.",
                    ids.join(", ")
                ))
            }
            Err(e) => return fail(e),
        },
    }
    ExitCode::SUCCESS
}

/// A span of `seconds`, as a person says it ("7 days", "12 hours", "30 minutes").
fn span(seconds: i64) -> String {
    match seconds.max(0) {
        s if s < 120 => format!("{s} seconds"),
        s if s < 7200 => format!("{} minutes", s / 60),
        s if s < 172_800 => format!("{} hours", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// A time `seconds` ago, as a person says it.
fn ago(seconds: i64) -> String {
    if seconds < 120 {
        "just now".to_string()
    } else {
        format!("{} ago", span(seconds))
    }
}

fn invitations(config: &Config, command: InviteCommand) -> ExitCode {
    use outpost_relay::invitations;
    let storage = match open_storage(config) {
        Ok(s) => s,
        Err(failed) => return failed,
    };
    let now = now_seconds();
    match command {
        InviteCommand::Create {
            person,
            expires,
            url,
        } => {
            let grant = match person.grant() {
                Ok(g) => g,
                Err(e) => return fail(e),
            };
            if expires > invitations::MAX_INVITATION_LIFETIME {
                return fail("an invitation lasts at most 30 days (--expires 30d)");
            }
            let base = match outpost_relay::people::origin_of(&url) {
                Ok(b) => b,
                Err(e) => return fail(format!("--url: {e}")),
            };
            let (code, id) = match storage.invite(&grant, "cli", now, expires) {
                Ok(made) => made,
                Err(e) => return fail(e),
            };
            let link = invitations::link(&base, &code);
            println!("{link}");
            if let Ok(qr) = qrcode::QrCode::new(link.as_bytes()) {
                eprintln!(
                    "{}",
                    qr.render::<qrcode::render::unicode::Dense1x2>()
                        .quiet_zone(true)
                        .build()
                );
            }
            eprintln!(
                "Invitation {id} for {} ({}) to workspace {}: open the link on their device (or scan the code) within {}. It works once.",
                grant.user,
                grant.role,
                grant.workspace,
                span(expires)
            );
        }
        InviteCommand::List { workspace } => match storage.invitations(workspace.as_deref()) {
            Ok(list) => {
                println!("id\tworkspace\tuser\trole\tstate\tby\tdevice");
                for i in list {
                    let device = i
                        .spent
                        .as_ref()
                        .map_or("-", |(_, d)| d.as_str())
                        .to_string();
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        i.id,
                        i.grant.workspace,
                        i.grant.user,
                        i.grant.role,
                        i.state(now),
                        i.created_by,
                        device
                    );
                }
            }
            Err(e) => return fail(e),
        },
        InviteCommand::Withdraw { id } => match storage.withdraw_invitation(None, &id, now) {
            Ok(true) => println!("withdrew invitation {id}; its link no longer works"),
            Ok(false) => {
                return fail(format!(
                    "no open invitation has the id {id:?} (see `invite list`)"
                ))
            }
            Err(e) => return fail(e),
        },
    }
    ExitCode::SUCCESS
}

fn integrations(config: &Config, command: IntegrationCommand) -> ExitCode {
    use outpost_automation::store::Store;
    let store = match Store::open(&config.data_dir) {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot open {}: {e}", config.data_dir.display())),
    };
    match command {
        IntegrationCommand::Create {
            workspace,
            kind,
            name,
        } => {
            let (workspace, name) = (workspace.trim(), name.trim());
            if workspace.is_empty() || name.is_empty() {
                return fail("--workspace and --name must not be empty");
            }
            match store.create_integration(workspace, kind, name, now_seconds()) {
                Ok((made, key)) => {
                    println!("{key}");
                    let endpoint = kind.endpoint();
                    eprintln!(
                        "Integration {} ({}) in workspace {workspace}: {endpoint}. The key is shown only now; store it safely.",
                        made.id,
                        made.author()
                    );
                }
                Err(e) => return fail(e),
            }
        }
        IntegrationCommand::List => match store.integrations() {
            Ok(list) => {
                println!("id\tworkspace\tkind\tname");
                for i in list {
                    println!("{}\t{}\t{}\t{}", i.id, i.workspace, i.kind.key(), i.name);
                }
            }
            Err(e) => return fail(e),
        },
        IntegrationCommand::Revoke { id } => match store.revoke(&id, now_seconds()) {
            Ok(true) => println!("revoked integration {id}; its key no longer works"),
            Ok(false) => {
                return fail(format!(
                    "no integration has the id {id:?} (see `integration list`)"
                ))
            }
            Err(e) => return fail(e),
        },
    }
    ExitCode::SUCCESS
}

fn notify(config: &Config, command: NotifyCommand) -> ExitCode {
    use outpost_automation::store::Store;
    let store = match Store::open(&config.data_dir) {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot open {}: {e}", config.data_dir.display())),
    };
    match command {
        NotifyCommand::HookAdd {
            workspace,
            kind,
            url,
        } => {
            if !matches!(url.scheme(), "https" | "http") {
                return fail("--url must be an http(s) address");
            }
            match store.create_hook(workspace.trim(), kind, url.as_str(), now_seconds()) {
                Ok(hook) => println!(
                    "webhook {} ({}) posts workspace {}'s notifications",
                    hook.id,
                    kind.key(),
                    hook.workspace
                ),
                Err(e) => return fail(e),
            }
        }
        NotifyCommand::Hooks { workspace } => match store.hooks(workspace.trim()) {
            Ok(hooks) => {
                println!("id\tkind");
                for h in hooks {
                    println!("{}\t{}", h.id, h.kind.key());
                }
            }
            Err(e) => return fail(e),
        },
        NotifyCommand::HookRemove { id } => match store.remove_hook(&id, now_seconds()) {
            Ok(true) => println!("webhook {id} removed"),
            Ok(false) => return fail(format!("no webhook has the id {id:?} (see `notify hooks`)")),
            Err(e) => return fail(e),
        },
        NotifyCommand::Status => match store.notice_counts(None) {
            Ok(counts) => {
                for (state, n) in counts {
                    println!("{state}\t{n}");
                }
            }
            Err(e) => return fail(e),
        },
        NotifyCommand::Dead { workspace } => match store.dead_letters(workspace.as_deref()) {
            Ok(dead) => {
                println!("id\tworkspace\tto\tsubject\tattempts\terror");
                for d in dead {
                    let to = if d.notice.address.is_empty() {
                        "(webhook)".to_string()
                    } else {
                        d.notice.address.clone()
                    };
                    println!(
                        "{}\t{}\t{to}\t{}\t{}\t{}",
                        d.id, d.notice.workspace, d.notice.subject, d.attempts, d.error
                    );
                }
            }
            Err(e) => return fail(e),
        },
        NotifyCommand::Retry { id } => match store.retry_dead(id, now_seconds()) {
            Ok(true) => println!("notice {id} is queued again"),
            Ok(false) => {
                return fail(format!(
                    "no dead letter has the id {id} (see `notify dead`)"
                ))
            }
            Err(e) => return fail(e),
        },
    }
    ExitCode::SUCCESS
}

async fn serve(config: Config) -> ExitCode {
    // Held while serving: a restore, or a second relay, cannot swap the databases under it.
    let _lock = match outpost_relay::backup::DirectoryLock::take(&config.data_dir) {
        Ok(lock) => lock,
        Err(e) => return fail(e),
    };
    if !config.dist.join("index.html").is_file() {
        tracing::warn!(dist = %config.dist.display(), "no built app found; pages will say so until it is built");
    }
    let state = match RelayState::open(&config) {
        Ok(s) => s,
        Err(e) => {
            return fail(format!(
                "cannot use data directory {}: {e}",
                config.data_dir.display()
            ))
        }
    };
    let listener = match TcpListener::bind(config.addr()).await {
        Ok(l) => l,
        Err(e) => {
            state.shut_down();
            return fail(format!("cannot listen on {}: {e}", config.addr()));
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let url = format!("http://{addr}/");
    // Scripts and tests read this line to find the port.
    println!("Outpost is running at {url}");
    if config.dev {
        let warning = format!(
            "DEVELOPMENT MODE: anyone on this machine who opens {url} is given a token for the '{DEV_WORKSPACE}' workspace. Do not use --dev for real data; issue tokens with `outpost-relay token create`."
        );
        eprintln!("\n*** {warning} ***\n");
        tracing::warn!("{warning}");
    }
    tracing::info!(%url, "relay started");
    match server::run(listener, state, shutdown::signal()).await {
        Ok(()) => {
            tracing::info!("relay stopped cleanly");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Token(command)) => tokens(&cli.serve, command),
        Some(Command::Invite(command)) => invitations(&cli.serve, command),
        Some(Command::Integration(command)) => integrations(&cli.serve, command),
        Some(Command::Notify(command)) => notify(&cli.serve, command),
        Some(Command::Backup { to }) => {
            match outpost_relay::backup::backup(&cli.serve.data_dir, &to, now_seconds()) {
                Ok(m) => {
                    println!(
                        "Backed up {} ({}) to {}.",
                        documents(m.documents),
                        m.databases.join(", "),
                        to.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Some(Command::Restore { from }) => {
            match outpost_relay::backup::restore(&cli.serve.data_dir, &from, now_seconds()) {
                Ok((m, aside)) => {
                    println!(
                        "Restored {} from {} (taken at {}); the databases it replaced are in {}. Devices ahead of the backup send the rest when they next connect.",
                        documents(m.documents),
                        from.display(),
                        m.taken_at,
                        aside.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Some(Command::Audit { incident }) => {
            let mut storage = match open_storage(&cli.serve) {
                Ok(s) => s,
                Err(failed) => return failed,
            };
            match outpost_relay::audit::report(&mut storage, &incident) {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        None => serve(cli.serve).await,
    }
}
