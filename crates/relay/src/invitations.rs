//! Invitations and devices: how a person's device signs in, and how an admin sees and ends it.
//!
//! An admin invites a person to a workspace with a role (and groups). The invitation is a
//! one-time code, sent as a link (`https://relay/join#inv_…`; after `#`, so it never reaches a
//! server log or a link preview) or a QR code of it. The device that opens it joins: it gets a
//! token of its own, bound to the person, role and workspace, and the invitation is spent in the
//! same transaction, so two devices racing on one link never both get in.
//!
//! A token made this way is a device: it carries the name the device gave, the app version it
//! last reported and when it was last seen. Revoking it ("lost phone") closes its connections
//! within a second ([`crate::revocation`]). Like tokens, invitations are stored only as hashes.

use rusqlite::params;

use outpost_sync::hub::{Grant, StoreError};

use crate::storage::{err, lines, short_id, token_hash, Storage, TokenInfo, DEFAULT_LIFETIME};

/// How long an invitation lasts by default (7 days), in seconds.
pub const DEFAULT_INVITATION_LIFETIME: i64 = 7 * 86_400;
/// The longest an invitation may last (30 days): an unspent link is a standing way in.
pub const MAX_INVITATION_LIFETIME: i64 = 30 * 86_400;
/// The longest device name kept.
pub const MAX_DEVICE_NAME: usize = 60;

/// A new random invitation code: `inv_` and 32 hex digits (128 bits).
pub fn new_code() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    format!("inv_{}", hex::encode(bytes))
}

/// The link that opens an invitation in the app served at `base` (`https://desk.example.com`).
pub fn link(base: &str, code: &str) -> String {
    format!("{}/join#{code}", base.trim().trim_end_matches('/'))
}

/// An invitation as stored (never its code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// Its listed id (the first characters of the code's hash).
    pub id: String,
    /// Whom it signs in, where, with what role and groups.
    pub grant: Grant,
    /// Who created it (a user name, or `cli`).
    pub created_by: String,
    /// When it was created and when it expires (seconds since the epoch).
    pub created_at: i64,
    /// When it expires unless spent.
    pub expires_at: i64,
    /// When it was spent, and by which device (a token's listed id).
    pub spent: Option<(i64, String)>,
}

impl Invitation {
    /// `open`, `spent` or `expired` at `now`.
    pub fn state(&self, now: i64) -> &'static str {
        match self.spent {
            Some(_) => "spent",
            None if self.expires_at <= now => "expired",
            None => "open",
        }
    }
}

/// What a code opens, as the join page needs to say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// An invitation that can be accepted.
    Open(Invitation),
    /// One already accepted (by a device, at a time).
    Spent(Invitation),
    /// One not accepted in time.
    Expired(Invitation),
    /// No invitation has this code.
    Unknown,
}

impl Lookup {
    /// What a person is told when the invitation cannot be used, or `None` if it can.
    pub fn problem(&self) -> Option<&'static str> {
        match self {
            Lookup::Open(_) => None,
            Lookup::Spent(_) => Some(
                "This invitation was already used to sign in a device; each one works once. Ask your administrator for a new invitation.",
            ),
            Lookup::Expired(_) => Some(
                "This invitation has expired. Ask your administrator for a new invitation.",
            ),
            Lookup::Unknown => Some(
                "This invitation is not known to this relay. Check that the whole link was opened, or ask your administrator for a new invitation.",
            ),
        }
    }
}

/// A device that joined: its token (shown once) and what it grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    /// The device's token.
    pub token: String,
    /// What it grants (its `device` is the token's listed id).
    pub grant: Grant,
}

/// A device's name as kept: trimmed, control characters dropped, at most
/// [`MAX_DEVICE_NAME`] characters; "Unnamed device" if nothing is left.
pub fn device_name(name: &str) -> String {
    let kept: String = name
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_DEVICE_NAME)
        .collect();
    match kept.trim() {
        "" => "Unnamed device".to_string(),
        name => name.to_string(),
    }
}

impl Storage {
    /// Stores an invitation for `grant` (its `device` is ignored) valid for `lifetime` seconds
    /// from `now`; returns its code (shown once) and its listed id.
    pub fn invite(
        &self,
        grant: &Grant,
        created_by: &str,
        now: i64,
        lifetime: i64,
    ) -> Result<(String, String), StoreError> {
        let code = new_code();
        let hash = token_hash(&code);
        let id = short_id(&hash);
        self.db
            .execute(
                "INSERT INTO invitations (hash, id, workspace, user, role, groups, created_by, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    hash,
                    id,
                    grant.workspace,
                    grant.user,
                    grant.role,
                    grant.groups.join("\n"),
                    created_by,
                    now,
                    now.saturating_add(lifetime.clamp(1, MAX_INVITATION_LIFETIME))
                ],
            )
            .map_err(err)?;
        Ok((code, id))
    }

    /// What `code` opens at `now`.
    pub fn lookup(&self, code: &str, now: i64) -> Result<Lookup, StoreError> {
        let found = self
            .invitations_where("hash = ?1", params![token_hash(code)])?
            .into_iter()
            .next();
        Ok(match found {
            None => Lookup::Unknown,
            Some(i) if i.spent.is_some() => Lookup::Spent(i),
            Some(i) if i.expires_at <= now => Lookup::Expired(i),
            Some(i) => Lookup::Open(i),
        })
    }

    /// Accepts the invitation `code` for a device called `name` running `app_version`: in one
    /// transaction, spends it and stores the device's new token, living [`DEFAULT_LIFETIME`]
    /// unless used. Returns the token, or why the invitation cannot be used (`Err(lookup)` for
    /// spent, expired or unknown).
    pub fn join(
        &mut self,
        code: &str,
        name: &str,
        app_version: &str,
        now: i64,
    ) -> Result<Result<Joined, Lookup>, StoreError> {
        self.join_for(code, name, app_version, now, DEFAULT_LIFETIME)
    }

    /// [`Storage::join`], the device's token living `lifetime` seconds unless used.
    pub fn join_for(
        &mut self,
        code: &str,
        name: &str,
        app_version: &str,
        now: i64,
        lifetime: i64,
    ) -> Result<Result<Joined, Lookup>, StoreError> {
        let tx = self.db.transaction().map_err(err)?;
        let hash = token_hash(code);
        let spent = tx
            .execute(
                "UPDATE invitations SET spent_at = ?1 WHERE hash = ?2 AND spent_at IS NULL AND expires_at > ?1",
                params![now, hash],
            )
            .map_err(err)?;
        if spent == 0 {
            drop(tx);
            return Ok(Err(self.lookup(code, now)?));
        }
        let (workspace, user, role, groups): (String, String, String, String) = tx
            .query_row(
                "SELECT workspace, user, role, groups FROM invitations WHERE hash = ?1",
                [&hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .map_err(err)?;
        let token = crate::auth::new_token();
        let token_hash = token_hash(&token);
        let device = short_id(&token_hash);
        tx.execute(
            "INSERT INTO tokens (hash, workspace, user, role, groups, created_at, lifetime, expires_at, device_name, app_version, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?6)",
            params![
                token_hash,
                workspace,
                user,
                role,
                groups,
                now,
                lifetime,
                now.saturating_add(lifetime),
                device_name(name),
                app_version.chars().take(40).collect::<String>(),
            ],
        )
        .map_err(err)?;
        tx.execute(
            "UPDATE invitations SET device = ?1 WHERE hash = ?2",
            params![device, hash],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(Ok(Joined {
            token,
            grant: Grant {
                user,
                workspace,
                role,
                device,
                groups: lines(&groups),
            },
        }))
    }

    /// The invitations of `workspace` (every workspace if `None`), newest first.
    pub fn invitations(&self, workspace: Option<&str>) -> Result<Vec<Invitation>, StoreError> {
        self.invitations_where("?1 IS NULL OR workspace = ?1", params![workspace])
    }

    fn invitations_where(
        &self,
        condition: &str,
        values: impl rusqlite::Params,
    ) -> Result<Vec<Invitation>, StoreError> {
        let mut stmt = self
            .db
            .prepare_cached(&format!(
                "SELECT id, workspace, user, role, groups, created_by, created_at, expires_at, spent_at, device FROM invitations WHERE {condition} ORDER BY created_at DESC, rowid DESC"
            ))
            .map_err(err)?;
        let rows = stmt
            .query_map(values, |r| {
                let spent_at: Option<i64> = r.get(8)?;
                let device: Option<String> = r.get(9)?;
                Ok(Invitation {
                    id: r.get(0)?,
                    grant: Grant {
                        workspace: r.get(1)?,
                        user: r.get(2)?,
                        role: r.get(3)?,
                        device: String::new(),
                        groups: lines(&r.get::<_, String>(4)?),
                    },
                    created_by: r.get(5)?,
                    created_at: r.get(6)?,
                    expires_at: r.get(7)?,
                    spent: spent_at.map(|at| (at, device.unwrap_or_default())),
                })
            })
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// Withdraws an open invitation of `workspace` by its listed id; returns whether there was
    /// one. It is marked expired now, so its link says so.
    pub fn withdraw_invitation(
        &self,
        workspace: Option<&str>,
        id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let changed = self
            .db
            .execute(
                "UPDATE invitations SET expires_at = ?1 WHERE id = ?2 AND (?3 IS NULL OR workspace = ?3) AND spent_at IS NULL AND expires_at > ?1",
                params![now, id.trim(), workspace],
            )
            .map_err(err)?;
        Ok(changed > 0)
    }

    /// The devices (tokens) of `workspace`, newest first.
    pub fn devices(&self, workspace: &str) -> Result<Vec<TokenInfo>, StoreError> {
        Ok(self
            .tokens()?
            .into_iter()
            .filter(|t| t.grant.workspace == workspace)
            .collect())
    }

    /// Records that the device `device` (a token's listed id) is in use now, running
    /// `app_version` if it said.
    pub fn seen(
        &self,
        device: &str,
        app_version: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        let version = app_version.map(|v| v.chars().take(40).collect::<String>());
        for hash in self.hashes_of(device)? {
            self.db
                .execute(
                    "UPDATE tokens SET last_seen = ?1, app_version = COALESCE(?2, app_version) WHERE hash = ?3",
                    params![now, version, hash],
                )
                .map_err(err)?;
        }
        Ok(())
    }

    /// The token hashes whose listed id is `device`.
    fn hashes_of(&self, device: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut stmt = self
            .db
            .prepare_cached("SELECT hash FROM tokens")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))
            .map_err(err)?;
        let mut out = Vec::new();
        for row in rows {
            let hash = row.map_err(err)?;
            if short_id(&hash) == device {
                out.push(hash);
            }
        }
        Ok(out)
    }

    /// The token whose listed id is exactly `id`, if any.
    pub fn token(&self, id: &str) -> Result<Option<TokenInfo>, StoreError> {
        Ok(self.tokens()?.into_iter().find(|t| t.id == id.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Revoke;

    /// Now, at the start of the test: token checks compare with the clock.
    static T: std::sync::LazyLock<i64> = std::sync::LazyLock::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    });

    fn grant(workspace: &str, user: &str, role: &str) -> Grant {
        Grant {
            user: user.into(),
            workspace: workspace.into(),
            role: role.into(),
            device: String::new(),
            groups: vec!["network".into()],
        }
    }

    #[test]
    fn an_invitation_signs_in_one_device_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Storage::open(dir.path()).unwrap();
        let (code, id) = s
            .invite(
                &grant("acme", "Tom Tech", "agent"),
                "Ada",
                *T,
                DEFAULT_INVITATION_LIFETIME,
            )
            .unwrap();
        assert!(code.starts_with("inv_") && code.len() == 4 + 32);
        let Lookup::Open(open) = s.lookup(&code, *T + 1).unwrap() else {
            panic!("the invitation is open")
        };
        assert_eq!(
            (open.id.as_str(), open.grant.user.as_str()),
            (id.as_str(), "Tom Tech")
        );

        let joined = s
            .join(&code, " Tom's phone\n", "1.4.0", *T + 2)
            .unwrap()
            .unwrap();
        let g = s
            .verify_token(&joined.token, false)
            .unwrap()
            .expect("the device's token works");
        assert_eq!(
            (g.workspace.as_str(), g.user.as_str(), g.role.as_str()),
            ("acme", "Tom Tech", "agent")
        );
        assert_eq!(g.groups, vec!["network".to_string()]);
        assert_eq!(g.device, joined.grant.device);
        let device = s.token(&g.device).unwrap().unwrap();
        assert_eq!(
            (device.device_name.as_str(), device.app_version.as_str()),
            ("Tom's phone", "1.4.0")
        );
        assert_eq!(device.last_seen, Some(*T + 2));

        // The second device with the same link is told it was spent, and gets nothing.
        let again = s
            .join(&code, "laptop", "1.4.0", *T + 3)
            .unwrap()
            .unwrap_err();
        assert!(matches!(&again, Lookup::Spent(i) if i.spent == Some((*T + 2, g.device.clone()))));
        assert!(again.problem().unwrap().contains("already used"));
        assert_eq!(s.devices("acme").unwrap().len(), 1);
    }

    #[test]
    fn expired_unknown_and_withdrawn_invitations_sign_in_nobody() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Storage::open(dir.path()).unwrap();
        let (code, _) = s
            .invite(&grant("acme", "Tom", "viewer"), "cli", *T, 60)
            .unwrap();
        assert!(matches!(
            s.join(&code, "p", "", *T + 60).unwrap(),
            Err(Lookup::Expired(_))
        ));
        assert!(matches!(
            s.join("inv_0000", "p", "", *T).unwrap(),
            Err(Lookup::Unknown)
        ));
        // A lifetime beyond the longest is cut to it.
        let (long, id) = s
            .invite(&grant("acme", "Ana", "admin"), "cli", *T, 365 * 86_400)
            .unwrap();
        let Lookup::Open(i) = s.lookup(&long, *T).unwrap() else {
            panic!()
        };
        assert_eq!(i.expires_at, *T + MAX_INVITATION_LIFETIME);
        // Withdrawn from another workspace: not found; from its own: expired from then on.
        assert!(!s.withdraw_invitation(Some("other"), &id, *T + 1).unwrap());
        assert!(s.withdraw_invitation(Some("acme"), &id, *T + 1).unwrap());
        assert!(matches!(
            s.join(&long, "p", "", *T + 2).unwrap(),
            Err(Lookup::Expired(_))
        ));
        assert!(s.tokens().unwrap().is_empty());
    }

    #[test]
    fn a_device_is_seen_renewed_and_revoked_by_its_id() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Storage::open(dir.path()).unwrap();
        let (code, _) = s
            .invite(&grant("acme", "Tom", "agent"), "cli", *T, 600)
            .unwrap();
        let joined = s.join(&code, "", "1.0", *T).unwrap().unwrap();
        let id = joined.grant.device.clone();
        assert_eq!(s.token(&id).unwrap().unwrap().device_name, "Unnamed device");
        s.seen(&id, Some("1.1"), *T + 1000).unwrap();
        s.renew(std::slice::from_ref(&id), *T + 2000).unwrap();
        let t = s.token(&id).unwrap().unwrap();
        assert_eq!(
            (t.app_version.as_str(), t.last_seen, t.expires_at),
            ("1.1", Some(*T + 2000), Some(*T + 2000 + DEFAULT_LIFETIME))
        );
        assert_eq!(s.revoke(&id, *T + 2001).unwrap(), Revoke::Revoked);
        assert_eq!(s.verify_token(&joined.token, false).unwrap(), None);
        assert_eq!(s.token(&id).unwrap().unwrap().state(*T + 2002), "revoked");
    }

    #[test]
    fn device_names_are_trimmed_and_bounded() {
        assert_eq!(device_name("  Ana's\u{7} phone "), "Ana's phone");
        assert_eq!(device_name(&"x".repeat(500)).len(), MAX_DEVICE_NAME);
        assert_eq!(device_name("\n\t"), "Unnamed device");
    }

    #[test]
    fn links_carry_the_code_after_the_hash() {
        assert_eq!(
            link("https://desk.example.com/", "inv_ab"),
            "https://desk.example.com/join#inv_ab"
        );
    }
}
