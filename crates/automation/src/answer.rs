//! The caller's two links in a resolution mail, "It works now" and "Still broken", which close
//! or reopen the incident without signing in (the seeds close an incident once the user confirms
//! the fix; ServiceNow's self-service reopen).
//!
//! A link carries its claim (workspace, incident, which resolution, which answer, until when) and
//! an HMAC-SHA256 of it under a secret that never leaves the automation's store, so a link cannot
//! be forged or altered. Each works once: its use is recorded before the answer is applied (and
//! forgotten if it could not be). It expires after [`VALID_FOR_SECONDS`], and an answer to a
//! resolution that has since been reopened or closed is refused by the incident's own rules
//! ([`outpost_core::notify::caller_answer`]).
//!
//! Opening a link shows a page with a button; only pressing it answers, because mail scanners
//! open every link in a mail.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use outpost_core::notify::CallerAnswer;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The name of the signing secret in the store.
pub const SECRET: &str = "answer-links";

/// How long a link works: two weeks, beyond the default auto-close delay of a week.
pub const VALID_FOR_SECONDS: i64 = 14 * 24 * 3600;

/// What a link says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The workspace.
    #[serde(rename = "w")]
    pub workspace: String,
    /// The incident (automerge URL).
    #[serde(rename = "d")]
    pub document: String,
    /// The incident's reference number, for the page the link opens.
    #[serde(rename = "r")]
    pub reference: String,
    /// The resolution notice's key ([`outpost_core::notify::resolved_key`]).
    #[serde(rename = "k")]
    pub key: String,
    /// "works" or "still-broken".
    #[serde(rename = "a")]
    pub answer: String,
    /// Until when it works (Unix seconds).
    #[serde(rename = "e")]
    pub expires: i64,
}

impl Claim {
    /// The answer it gives.
    pub fn answer(&self) -> Option<CallerAnswer> {
        CallerAnswer::parse(&self.answer)
    }
}

/// Why a link was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not a link this relay made, or altered.
    #[error("This link is not valid: it was not made by this Outpost, or it was changed. Nothing was done.")]
    Forged,
    /// Past its time.
    #[error(
        "This link has expired. Nothing was done; reply to the mail or contact the service desk."
    )]
    Expired,
    /// Used already.
    #[error("This link has already been used. Nothing more was done.")]
    Used,
}

type Signer = Hmac<Sha256>;

fn mac(secret: &[u8], payload: &str) -> Signer {
    let mut mac = Signer::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(payload.as_bytes());
    mac
}

/// The token of a claim: the claim's JSON and its signature, both base64url.
pub fn sign(secret: &[u8], claim: &Claim) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claim).expect("a claim serialises"));
    let signature = URL_SAFE_NO_PAD.encode(mac(secret, &payload).finalize().into_bytes());
    format!("{payload}.{signature}")
}

/// What the store records a used token as: its hash, so the store holds no working link.
pub fn used_key(token: &str) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// The claim of a token, if this secret signed it and it has not expired at `now`.
pub fn verify(secret: &[u8], token: &str, now: i64) -> Result<Claim, LinkError> {
    let (payload, signature) = token.trim().split_once('.').ok_or(LinkError::Forged)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| LinkError::Forged)?;
    // Compared in constant time.
    mac(secret, payload)
        .verify_slice(&signature)
        .map_err(|_| LinkError::Forged)?;
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| LinkError::Forged)?;
    let claim: Claim = serde_json::from_slice(&json).map_err(|_| LinkError::Forged)?;
    claim.answer().ok_or(LinkError::Forged)?;
    if now > claim.expires {
        return Err(LinkError::Expired);
    }
    Ok(claim)
}

/// The two links, as lines for the caller's resolution mail.
pub fn links(base: &url::Url, secret: &[u8], claim_of: impl Fn(CallerAnswer) -> Claim) -> String {
    let link = |answer: CallerAnswer| {
        let mut url = base.join("answer").unwrap_or_else(|_| base.clone());
        url.query_pairs_mut()
            .append_pair("t", &sign(secret, &claim_of(answer)));
        format!("{}: {url}", answer.label())
    };
    format!(
        "Is it fixed? Tell us with one of these links:\n{}\n{}",
        link(CallerAnswer::Works),
        link(CallerAnswer::StillBroken)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(expires: i64) -> Claim {
        Claim {
            workspace: "acme".into(),
            document: "automerge:abc".into(),
            reference: "INC-7F3A-0001".into(),
            key: "resolved@2026-12-04T10:00:00Z".into(),
            answer: "works".into(),
            expires,
        }
    }

    #[test]
    fn a_signed_link_is_read_back_and_a_changed_or_foreign_or_old_one_is_refused() {
        let secret = [7u8; 32];
        let token = sign(&secret, &claim(1_000));
        assert_eq!(verify(&secret, &token, 999), Ok(claim(1_000)));
        assert_eq!(verify(&secret, &token, 1_001), Err(LinkError::Expired));
        assert_eq!(verify(&[8u8; 32], &token, 999), Err(LinkError::Forged));
        // Turning "works" into "still-broken" (or anything) breaks the signature.
        let (payload, signature) = token.split_once('.').unwrap();
        let mut altered = claim(1_000);
        altered.answer = "still-broken".into();
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&altered).unwrap());
        assert_ne!(forged_payload, payload);
        assert_eq!(
            verify(&secret, &format!("{forged_payload}.{signature}"), 999),
            Err(LinkError::Forged)
        );
        for junk in ["", "abc", "a.b", &format!("{payload}.")] {
            assert_eq!(verify(&secret, junk, 999), Err(LinkError::Forged), "{junk}");
        }
    }

    #[test]
    fn the_mail_lines_carry_one_link_per_answer_under_the_relay_address() {
        let base: url::Url = "https://outpost.example.org/".parse().unwrap();
        let text = links(&base, &[1u8; 32], |a| {
            let mut c = claim(5);
            c.answer = a.key().into();
            c
        });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].starts_with("It works now: https://outpost.example.org/answer?t="));
        assert!(lines[2].starts_with("Still broken: https://outpost.example.org/answer?t="));
        let token = |line: &str| {
            let url: url::Url = line.split_once(": ").unwrap().1.parse().unwrap();
            url.query_pairs()
                .find(|(k, _)| k == "t")
                .unwrap()
                .1
                .to_string()
        };
        assert_eq!(
            verify(&[1u8; 32], &token(lines[2]), 0).unwrap().answer,
            "still-broken"
        );
    }
}
