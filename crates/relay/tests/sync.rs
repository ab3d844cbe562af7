//! The relay binary, over real sockets: devices converge, auth is enforced, bad input is refused,
//! a crash loses nothing acknowledged, and shutdown is clean. What only this machine may ask for
//! is also tested without a socket, through the router, so a request can come from another
//! machine.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{ReadDoc, ROOT};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use outpost_peer::{Peer, PeerError, TokenIn};
use outpost_relay::cli::Config;
use outpost_relay::server::{app, RelayState};
use outpost_sync::wire::{self, Message};
use support::{create, doc, http_get, http_request, note, notes, Relay};
use tower::ServiceExt;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "current_thread")]
async fn three_devices_edit_offline_and_converge_through_the_relay() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &[]);
    let names = ["ana", "ben", "cy"];
    let mut peers: Vec<Peer> = names.iter().map(|n| Peer::new(n)).collect();
    let tokens: Vec<String> = names.iter().map(|n| relay.token("acme", n)).collect();
    let shared = doc(1);
    // Ana logs the incident; everyone picks it up once.
    peers[0]
        .connect(&relay.ws(), TokenIn::Subprotocol(tokens[0].clone()))
        .await
        .unwrap();
    peers[0].caught_up(WAIT).await.unwrap();
    create(&mut peers[0], shared, "Core switch flapping").await;
    peers[0].acknowledged(shared, WAIT).await.unwrap();
    for (i, p) in peers.iter_mut().enumerate().skip(1) {
        p.connect(&relay.ws(), TokenIn::Subprotocol(tokens[i].clone()))
            .await
            .unwrap();
        p.caught_up(WAIT).await.unwrap();
    }
    for p in peers.iter_mut() {
        p.disconnect().await;
    }
    // Offline: a note each, and a new incident each.
    for (i, p) in peers.iter_mut().enumerate() {
        note(p, shared, &format!("{} was here", names[i])).await;
        create(
            p,
            doc(10 + i as u32),
            &format!("{}'s own incident", names[i]),
        )
        .await;
    }
    // They come back one at a time, then once more to pick up the others.
    for round in 0..2 {
        for (i, p) in peers.iter_mut().enumerate() {
            p.connect(&relay.ws(), TokenIn::Subprotocol(tokens[i].clone()))
                .await
                .unwrap();
            p.caught_up(WAIT).await.unwrap();
            if round == 0 {
                p.disconnect().await;
            }
        }
    }
    for p in &peers {
        assert_eq!(
            notes(p, &shared),
            ["ana was here", "ben was here", "cy was here"]
        );
        assert_eq!(p.docs.docs.len(), 4);
    }
    let heads: Vec<_> = peers
        .iter()
        .map(|p| p.docs.docs[&shared].get_heads())
        .collect();
    assert!(heads.windows(2).all(|w| w[0] == w[1]));
}

#[tokio::test(flavor = "current_thread")]
async fn tokens_are_checked_at_the_upgrade_and_workspaces_are_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &[]);
    for token in [
        TokenIn::None,
        TokenIn::Subprotocol("opt_forged".into()),
        TokenIn::Query("nonsense".into()),
    ] {
        match Peer::new("x").connect(&relay.ws(), token.clone()).await {
            Err(PeerError::Connect(e)) => assert!(e.contains("401"), "{token:?}: {e}"),
            other => panic!("{token:?} was not refused: {other:?}"),
        }
    }
    let (status, body) = http_get(relay.port, "/sync", &[]).await;
    assert_eq!(status, 401);
    assert!(body.contains("a token is required"), "{body}");

    let acme = relay.token("acme", "ana");
    let globex = relay.token("globex", "eve");
    let (status, body) = http_get(
        relay.port,
        "/api/session",
        &[("Authorization", &format!("Bearer {acme}"))],
    )
    .await;
    assert_eq!(
        (status, body.contains("\"workspace\":\"acme\"")),
        (200, true),
        "{body}"
    );

    let mut ana = Peer::new("ana");
    ana.connect(&relay.ws(), TokenIn::Query(acme.clone()))
        .await
        .unwrap();
    ana.caught_up(WAIT).await.unwrap();
    create(&mut ana, doc(1), "acme only").await;
    ana.acknowledged(doc(1), WAIT).await.unwrap();

    let mut eve = Peer::new("eve");
    eve.connect(&relay.ws(), TokenIn::Subprotocol(globex))
        .await
        .unwrap();
    eve.caught_up(WAIT).await.unwrap();
    assert!(eve.docs.docs.is_empty(), "nothing from acme");
    // Eve writes to acme's document id: refused as if it did not exist, and not stored.
    eve.change(doc(1), |tx| tx.put(ROOT, "title", "pwned").map(|_| ()))
        .await
        .unwrap();
    eve.pump_until("doc-unavailable", WAIT, |p| {
        p.client.phase() == outpost_sync::client::Phase::Live
    })
    .await
    .unwrap();
    let mut check = Peer::new("ana2");
    check
        .connect(&relay.ws(), TokenIn::Query(acme.clone()))
        .await
        .unwrap();
    check.caught_up(WAIT).await.unwrap();
    let title = check.docs.docs[&doc(1)]
        .get(ROOT, "title")
        .unwrap()
        .and_then(|(v, _)| v.as_str().map(String::from));
    assert_eq!(title.as_deref(), Some("acme only"));

    // Revoked tokens stop working.
    let revoke = relay.cli(&["token", "revoke", &relay.token_id("ana")]);
    assert!(revoke.status.success());
    match Peer::new("ana")
        .connect(&relay.ws(), TokenIn::Query(acme))
        .await
    {
        Err(PeerError::Connect(e)) => assert!(e.contains("401"), "{e}"),
        other => panic!("a revoked token still works: {other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn revoking_a_token_closes_its_open_connections_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &[]);
    let (ana_token, bea_token) = (relay.token("acme", "ana"), relay.token("acme", "bea"));
    let mut ana = Peer::new("ana");
    ana.connect(&relay.ws(), TokenIn::Query(ana_token))
        .await
        .unwrap();
    ana.caught_up(WAIT).await.unwrap();
    let mut bea = Peer::new("bea");
    bea.connect(&relay.ws(), TokenIn::Query(bea_token))
        .await
        .unwrap();
    bea.caught_up(WAIT).await.unwrap();

    // A prefix, even of one token's id, revokes nothing.
    let id = relay.token_id("ana");
    let prefix = relay.cli(&["token", "revoke", &id[..4]]);
    assert!(!prefix.status.success());
    let said = String::from_utf8_lossy(&prefix.stderr);
    assert!(
        said.contains("only the start of an id") && said.contains(&id),
        "{said}"
    );
    create(&mut ana, doc(7), "still signed in").await;
    ana.acknowledged(doc(7), WAIT).await.unwrap();

    assert!(relay.cli(&["token", "revoke", &id]).status.success());
    // Ana's open connection is told why and closed (1008), without her sending anything.
    match ana.pump_until("the revocation", WAIT, |_| false).await {
        Err(PeerError::Refused(why)) => {
            assert!(why.contains("sign-in was revoked"), "{why}")
        }
        other => panic!("the revoked connection stayed open: {other:?}"),
    }
    // Bea's connection carries on.
    create(&mut bea, doc(8), "after the revocation").await;
    bea.acknowledged(doc(8), WAIT).await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn pages_of_other_sites_cannot_open_a_sync_connection() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &["--allow-origin", "https://desk.example.com/"]);
    let token = relay.token("acme", "ana");
    let path = format!("/sync?token={token}");
    let get = |origin: &'static str| {
        let path = path.clone();
        async move { http_get(relay.port, &path, &[("Origin", origin)]).await }
    };
    let (status, body) = get("https://attacker.example").await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("pages of https://attacker.example may not sync"),
        "{body}"
    );
    // The relay's own pages (http_get says Host: 127.0.0.1) and the allowed site get as far as
    // the upgrade, which a plain GET is not.
    for origin in [
        "http://127.0.0.1",
        "https://desk.example.com",
        "HTTPS://DESK.example.com",
    ] {
        let (status, body) = get(origin).await;
        assert_eq!(status, 426, "{origin}: {body}");
    }
    // Programs send no Origin at all, and connect as before.
    let mut peer = Peer::new("ana");
    peer.connect(&relay.ws(), TokenIn::Query(token))
        .await
        .unwrap();
    peer.caught_up(WAIT).await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_token_in_the_query_string_never_reaches_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = Relay::start_logging(dir.path(), &[]);
    let token = relay.token("acme", "ana");
    let mut peer = Peer::new("ana");
    peer.connect(&relay.ws(), TokenIn::Query(token.clone()))
        .await
        .unwrap();
    peer.caught_up(WAIT).await.unwrap();
    let (status, _) = http_get(relay.port, &format!("/sync?token={token}"), &[]).await;
    assert_eq!(status, 426);
    peer.disconnect().await;
    assert!(relay.terminate().success());
    let log = std::fs::read_to_string(relay.log.as_ref().unwrap()).unwrap();
    assert!(
        log.contains("/sync"),
        "the log is written at debug level: {log}"
    );
    let secret = token.trim_start_matches("opt_");
    assert!(!log.contains(secret), "the token was logged:\n{log}");
}

#[tokio::test(flavor = "current_thread")]
async fn no_token_takes_every_connection() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(
        dir.path(),
        &["--max-connections-per-token", "2", "--max-connections", "3"],
    );
    let (ana, bea) = (relay.token("acme", "ana"), relay.token("acme", "bea"));
    let mut open = Vec::new();
    for token in [&ana, &ana, &bea] {
        let mut peer = Peer::new("p");
        peer.connect(&relay.ws(), TokenIn::Query(token.clone()))
            .await
            .unwrap();
        peer.caught_up(WAIT).await.unwrap();
        open.push(peer);
    }
    match Peer::new("ana3")
        .connect(&relay.ws(), TokenIn::Query(ana.clone()))
        .await
    {
        Err(PeerError::Connect(e)) => assert!(e.contains("429") || e.contains("503"), "{e}"),
        other => panic!("a third connection of one token was let in: {other:?}"),
    }
    let (status, body) = http_get(relay.port, &format!("/sync?token={ana}"), &[]).await;
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("already has 2 open connections"), "{body}");
    let cy = relay.token("acme", "cy");
    let (status, body) = http_get(relay.port, &format!("/sync?token={cy}"), &[]).await;
    assert_eq!(status, 503, "the relay is full: {body}");
    // A connection that closes makes room again.
    open.pop().unwrap().disconnect().await;
    let mut room = false;
    for _ in 0..100 {
        let mut peer = Peer::new("cy");
        if peer
            .connect(&relay.ws(), TokenIn::Query(cy.clone()))
            .await
            .is_ok()
        {
            room = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(room, "no room after a connection closed");
}

#[tokio::test(flavor = "current_thread")]
async fn bad_input_is_refused_and_the_relay_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(
        dir.path(),
        &[
            "--max-frame-bytes",
            "4096",
            "--rate-limit",
            "20",
            "--rate-burst",
            "40",
        ],
    );
    let token = relay.token("acme", "ana");
    let fresh = || async {
        let mut p = Peer::new("mallory");
        p.connect(&relay.ws(), TokenIn::Subprotocol(token.clone()))
            .await
            .unwrap();
        p
    };

    let mut p = fresh().await;
    p.send_raw(b"\xff\xfe definitely not cbor".to_vec())
        .await
        .unwrap();
    let (code, _, seen) = p.closed_by_relay(WAIT).await.unwrap();
    assert_eq!(code, 1008);
    assert!(
        seen.iter().any(
            |m| matches!(m, Message::Error { message, .. } if message.contains("malformed message"))
        ),
        "{seen:?}"
    );

    let mut p = fresh().await;
    p.send_text("{\"type\":\"join\"}").await.unwrap();
    let (code, reason, _) = p.closed_by_relay(WAIT).await.unwrap();
    assert_eq!(code, 1003, "{reason}");

    let mut p = fresh().await;
    p.send_raw(vec![0u8; 10_000]).await.unwrap();
    let (code, _, _) = p.closed_by_relay(WAIT).await.unwrap();
    assert_eq!(code, 1009);

    let mut p = fresh().await;
    p.caught_up(WAIT).await.unwrap();
    let noise = wire::encode(&Message::RemoteSubscriptionChange {
        sender_id: "mallory".into(),
        target_id: p.client.relay_id().unwrap().to_string(),
        add: vec![],
        remove: vec![],
    });
    for _ in 0..200 {
        if p.send_raw(noise.clone()).await.is_err() {
            break;
        }
    }
    let (code, reason, seen) = p.closed_by_relay(WAIT).await.unwrap();
    assert_eq!(code, 1008, "{reason} {seen:?}");
    assert!(reason.contains("rate limit"), "{reason}");

    // Still serving, and storage is intact.
    let mut ana = Peer::new("ana");
    ana.connect(&relay.ws(), TokenIn::Subprotocol(token.clone()))
        .await
        .unwrap();
    ana.caught_up(WAIT).await.unwrap();
    create(&mut ana, doc(3), "after the attacks").await;
    ana.acknowledged(doc(3), WAIT).await.unwrap();
    assert_eq!(
        http_get(relay.port, "/healthz", &[]).await,
        (200, "ok".to_string())
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_relay_killed_mid_sync_loses_nothing_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = Relay::start(dir.path(), &[]);
    let token = relay.token("acme", "ana");
    let mut ana = Peer::new("ana");
    ana.connect(&relay.ws(), TokenIn::Subprotocol(token.clone()))
        .await
        .unwrap();
    ana.caught_up(WAIT).await.unwrap();
    let id = doc(7);
    create(&mut ana, id, "Storage array degraded").await;
    let mut acknowledged = Vec::new();
    for n in 0..40 {
        note(&mut ana, id, &format!("note {n:02}")).await;
        if n % 4 == 0 {
            ana.acknowledged(id, WAIT).await.unwrap();
            acknowledged = notes(&ana, &id);
        }
    }
    // Mid-stream: more notes are in flight when the relay dies.
    for n in 40..60 {
        note(&mut ana, id, &format!("note {n:02}")).await;
    }
    relay.kill_9();
    ana.vanish();
    let relay = relay.restart();
    let mut ben = Peer::new("ben");
    ben.connect(
        &relay.ws(),
        TokenIn::Subprotocol(relay.token("acme", "ben")),
    )
    .await
    .unwrap();
    ben.caught_up(WAIT).await.unwrap();
    let kept = notes(&ben, &id);
    for n in &acknowledged {
        assert!(kept.contains(n), "acknowledged {n} was lost");
    }
    // Ana reconnects and delivers the rest.
    ana.connect(&relay.ws(), TokenIn::Subprotocol(token))
        .await
        .unwrap();
    ana.caught_up(WAIT).await.unwrap();
    ben.pump_until("the rest of ana's notes", WAIT, |p| {
        notes(p, &id).len() == 60
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn sigterm_closes_every_socket_cleanly_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = Relay::start(dir.path(), &[]);
    let mut ana = Peer::new("ana");
    ana.connect(
        &relay.ws(),
        TokenIn::Subprotocol(relay.token("acme", "ana")),
    )
    .await
    .unwrap();
    ana.caught_up(WAIT).await.unwrap();
    create(&mut ana, doc(9), "before shutdown").await;
    ana.acknowledged(doc(9), WAIT).await.unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let status = relay.terminate();
        (status, relay)
    });
    let (code, reason, _) = ana.closed_by_relay(WAIT).await.unwrap();
    assert_eq!(code, 1001, "{reason}");
    let (status, relay) = status.await.unwrap();
    assert!(status.success(), "{status:?}");
    let relay = relay.restart();
    let mut ben = Peer::new("ben");
    ben.connect(
        &relay.ws(),
        TokenIn::Subprotocol(relay.token("acme", "ben")),
    )
    .await
    .unwrap();
    ben.caught_up(WAIT).await.unwrap();
    assert!(ben.docs.docs.contains_key(&doc(9)));
}

#[tokio::test(flavor = "current_thread")]
async fn development_tokens_only_in_dev_mode_and_only_for_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let plain = Relay::start(dir.path(), &[]);
    assert_eq!(
        http_get(plain.port, "/api/dev-token?user=ana", &[]).await.0,
        404
    );
    drop(plain);
    let dir = tempfile::tempdir().unwrap();
    let dev = Relay::start(dir.path(), &["--dev"]);
    let (status, body) = http_get(dev.port, "/api/dev-token?user=ana", &[]).await;
    assert_eq!(status, 200, "{body}");
    let token = body
        .split("\"token\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let (_, again) = http_get(dev.port, "/api/dev-token?user=ana", &[]).await;
    assert!(again.contains(&token), "the same user gets the same token");
    let mut ana = Peer::new("ana");
    ana.connect(&dev.ws(), TokenIn::Subprotocol(token.clone()))
        .await
        .unwrap();
    ana.caught_up(WAIT).await.unwrap();
    ana.disconnect().await;

    // The same data served without --dev: the development token no longer opens anything.
    let mut dev = dev;
    assert!(dev.terminate().success());
    let plain = Relay::start_on(dev.data.clone(), dir.path(), &[]);
    match Peer::new("ana")
        .connect(&plain.ws(), TokenIn::Subprotocol(token))
        .await
    {
        Err(PeerError::Connect(e)) => assert!(e.contains("401"), "{e}"),
        other => panic!("a development token works without --dev: {other:?}"),
    }
}

/// A relay's router with no socket, in development mode or not.
fn socket_free_relay(root: &std::path::Path, dev: bool) -> std::sync::Arc<RelayState> {
    let mut config = Config::new(support::dist_dir(root), root.join("data"));
    config.dev = dev;
    RelayState::open(&config).unwrap()
}

/// A GET through the router, as if it came from `peer` (what `axum::serve` records for it).
async fn get_from(
    state: &std::sync::Arc<RelayState>,
    path: &str,
    peer: &str,
) -> (StatusCode, String) {
    let peer: SocketAddr = peer.parse().unwrap();
    let mut request = Request::get(path).body(Body::empty()).unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Peers on the local network and beyond, over IPv4 and IPv6 (and IPv4 mapped into IPv6).
const OTHER_MACHINES: [&str; 5] = [
    "192.168.1.20:51000",
    "10.0.0.7:51000",
    "203.0.113.1:51000",
    "[2001:db8::7]:51000",
    "[::ffff:192.168.1.20]:51000",
];
/// Loopback: all of 127.0.0.0/8, IPv6's, and 127.0.0.1 as a dual-stack socket reports it.
const THIS_MACHINE: [&str; 4] = [
    "127.0.0.1:51000",
    "127.8.9.10:51000",
    "[::1]:51000",
    "[::ffff:127.0.0.1]:51000",
];

#[tokio::test(flavor = "current_thread")]
async fn development_tokens_are_refused_to_other_machines() {
    let dir = tempfile::tempdir().unwrap();
    let relay = socket_free_relay(dir.path(), true);
    for peer in OTHER_MACHINES {
        let (status, body) = get_from(&relay, "/api/dev-token?user=mallory", peer).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{peer}: {body}");
        assert!(
            body.contains("only given to this machine"),
            "{peer}: {body}"
        );
        assert!(!body.contains("opt_"), "{peer} got a token: {body}");
    }
    for peer in THIS_MACHINE {
        let (status, body) = get_from(&relay, "/api/dev-token?user=ana", peer).await;
        assert_eq!(status, StatusCode::OK, "{peer}: {body}");
        let reply: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(
            reply["token"].as_str().unwrap().starts_with("opt_"),
            "{body}"
        );
        assert_eq!(reply["workspace"], "default", "{body}");
    }
    relay.shut_down();
    // Without --dev nobody gets one, from here or elsewhere.
    let dir = tempfile::tempdir().unwrap();
    let relay = socket_free_relay(dir.path(), false);
    for peer in [OTHER_MACHINES[0], THIS_MACHINE[0]] {
        let (status, body) = get_from(&relay, "/api/dev-token?user=ana", peer).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{peer}: {body}");
    }
    relay.shut_down();
}

#[tokio::test(flavor = "current_thread")]
async fn the_relay_reports_its_counters_and_hub_delay_to_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &[]);
    let token = relay.token("acme", "ana");
    let mut ana = Peer::new("ana");
    ana.connect(&relay.ws(), TokenIn::Subprotocol(token))
        .await
        .unwrap();
    ana.caught_up(WAIT).await.unwrap();
    create(&mut ana, doc(4), "Badge readers down").await;
    ana.acknowledged(doc(4), WAIT).await.unwrap();

    let (status, body) = http_get(relay.port, "/api/stats", &[]).await;
    assert_eq!(status, 200, "{body}");
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stats["connections"], 1, "{body}");
    assert_eq!(stats["documents_changed"], 1, "{body}");
    assert!(stats["frames_in"].as_u64().unwrap() >= 3, "{body}");
    let delay = &stats["hub_delay"];
    assert_eq!(delay["frames"], stats["frames_in"], "{body}");
    let (p50, p99, max) = (
        delay["p50_ms"].as_f64().unwrap(),
        delay["p99_ms"].as_f64().unwrap(),
        delay["max_ms"].as_f64().unwrap(),
    );
    assert!(p50 > 0.0 && p50 <= p99 && p99 <= max, "{body}");
}

#[tokio::test(flavor = "current_thread")]
async fn healthz_says_so_when_the_sync_hub_has_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let state = socket_free_relay(dir.path(), false);
    assert_eq!(
        get_from(&state, "/healthz", "127.0.0.1:5000").await,
        (StatusCode::OK, "ok".to_string())
    );
    // The pages would still load; sync would not.
    state.shut_down();
    let (status, body) = get_from(&state, "/healthz", "127.0.0.1:5000").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("the sync hub has stopped"), "{body}");
}

#[tokio::test(flavor = "current_thread")]
async fn two_devices_that_chose_the_same_prefix_are_given_different_ones() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &[]);
    let (ana, bea) = (relay.token("acme", "ana"), relay.token("acme", "bea"));
    let claim = |token: String| async move {
        let auth = format!("Bearer {token}");
        http_request(
            relay.port,
            "POST",
            "/api/device-prefix?wanted=7f3a",
            &[("Authorization", &auth)],
        )
        .await
    };
    let (status, first) = claim(ana.clone()).await;
    assert_eq!(status, 200, "{first}");
    assert!(
        first.contains("\"prefix\":\"7F3A\"") && first.contains("\"kept\":true"),
        "{first}"
    );
    let (_, second) = claim(bea).await;
    assert!(second.contains("\"kept\":false"), "{second}");
    assert!(
        !second.contains("7F3A"),
        "bea was given ana's prefix: {second}"
    );
    let (_, again) = claim(ana).await;
    assert_eq!(again, first, "a device keeps its prefix");
    let (status, _) = http_request(relay.port, "POST", "/api/device-prefix?wanted=7F3A", &[]).await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "current_thread")]
async fn an_expired_token_s_connection_is_closed_and_it_opens_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &[]);
    let out = relay.cli(&[
        "token",
        "create",
        "--workspace",
        "acme",
        "--user",
        "tem",
        "--expires",
        "2s",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let mut tem = Peer::new("tem");
    tem.connect(&relay.ws(), TokenIn::Query(token.clone()))
        .await
        .unwrap();
    tem.caught_up(WAIT).await.unwrap();
    match tem.pump_until("the expiry", WAIT, |_| false).await {
        Err(PeerError::Refused(why)) => assert!(why.contains("sign-in expired"), "{why}"),
        other => panic!("the expired connection stayed open: {other:?}"),
    }
    match Peer::new("tem")
        .connect(&relay.ws(), TokenIn::Query(token))
        .await
    {
        Err(PeerError::Connect(e)) => assert!(e.contains("401"), "{e}"),
        other => panic!("an expired token still works: {other:?}"),
    }
    let listing = String::from_utf8(relay.cli(&["token", "list"]).stdout).unwrap();
    assert!(
        listing
            .lines()
            .any(|l| l.contains("\ttem\t") && l.contains("\texpired\t")),
        "{listing}"
    );
}
