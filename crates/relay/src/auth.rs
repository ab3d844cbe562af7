//! Tokens: issuing them, and finding one in a request.
//!
//! A token grants one user access to one workspace. Browsers cannot set headers on a WebSocket
//! upgrade, so the token travels as a subprotocol (`Sec-WebSocket-Protocol: outpost.v1,
//! outpost.token.<token>`); other clients (the JavaScript automerge-repo, scripts) may use a
//! `?token=` query parameter; the HTTP API takes `Authorization: Bearer <token>`.

use axum::http::{header, HeaderMap};

/// The subprotocol the relay answers with.
pub const SUBPROTOCOL: &str = "outpost.v1";
/// The prefix of the subprotocol that carries a token.
pub const TOKEN_SUBPROTOCOL_PREFIX: &str = "outpost.token.";

/// A new random token: `opt_` and 64 hex digits (256 bits).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    format!("opt_{}", hex::encode(bytes))
}

/// A token derived from a secret and a name: the same for the same two, unguessable without the
/// secret (SHA-256 over the secret, a separator and the name; the secret is of fixed length).
pub fn derived_token(secret: &str, name: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(secret.as_bytes())
        .chain_update([0u8])
        .chain_update(name.as_bytes())
        .finalize();
    format!("opt_{}", hex::encode(digest))
}

/// The token of a request, from (in order) the subprotocol, the query, or a bearer header.
pub fn token_from(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    let from_protocol = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find_map(|p| p.strip_prefix(TOKEN_SUBPROTOCOL_PREFIX))
        .map(String::from);
    let from_query = || {
        query?
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "token")
            .map(|(_, v)| v.to_string())
    };
    let from_bearer = || {
        headers
            .get(header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")
            .map(|t| t.trim().to_string())
    };
    from_protocol
        .or_else(from_query)
        .or_else(from_bearer)
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn tokens_are_long_and_random() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 64);
        assert!(a.starts_with("opt_"));
    }

    #[test]
    fn derived_tokens_depend_on_the_secret_and_the_name() {
        let a = derived_token("s1", "dev-token:ana:admin");
        assert_eq!(a, derived_token("s1", "dev-token:ana:admin"));
        assert_ne!(a, derived_token("s2", "dev-token:ana:admin"));
        assert_ne!(a, derived_token("s1", "dev-token:bea:admin"));
        assert_eq!(a.len(), 4 + 64);
    }

    #[test]
    fn a_token_is_found_in_the_subprotocol_the_query_or_a_bearer_header() {
        let mut h = HeaderMap::new();
        h.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("outpost.v1, outpost.token.opt_abc"),
        );
        assert_eq!(token_from(&h, None).as_deref(), Some("opt_abc"));
        assert_eq!(
            token_from(&HeaderMap::new(), Some("x=1&token=opt_q")).as_deref(),
            Some("opt_q")
        );
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer opt_b"),
        );
        assert_eq!(token_from(&h, None).as_deref(), Some("opt_b"));
        assert_eq!(token_from(&HeaderMap::new(), Some("token=")), None);
        assert_eq!(token_from(&HeaderMap::new(), None), None);
    }
}
