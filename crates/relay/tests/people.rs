//! People and devices through the relay binary: an invitation signs in one device once, with a
//! token of its own that syncs its workspace; admins invite and revoke from the API, others
//! may not; a revoked device's open connection is closed; signing out ends the device's token.

mod support;

use std::time::Duration;

use outpost_peer::{Peer, PeerError, TokenIn};
use serde_json::{json, Value};
use support::{http_get, http_post_json, Relay};

const WAIT: Duration = Duration::from_secs(20);

/// The code of an invitation link (what follows `#`).
fn code_of(link: &str) -> String {
    link.split_once('#')
        .expect("the code follows #")
        .1
        .to_string()
}

async fn join(relay: &Relay, code: &str, name: &str) -> (u16, Value) {
    http_post_json(
        relay.port,
        "/api/join",
        &[],
        json!({ "code": code, "device_name": name, "app_version": "0.1.0" }),
    )
    .await
}

#[tokio::test(flavor = "current_thread")]
async fn an_invitation_from_the_cli_signs_in_one_device_once_into_its_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &["--token-lifetime", "30d"]);
    let out = relay.cli(&[
        "invite",
        "create",
        "--workspace",
        "acme",
        "--user",
        "Tom Tech",
        "--role",
        "viewer",
        "--url",
        "https://desk.example.com/",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        link.starts_with("https://desk.example.com/join#inv_"),
        "{link}"
    );
    let code = code_of(&link);

    // The join page can say what the link opens before the device joins.
    let (status, check) =
        http_post_json(relay.port, "/api/join/check", &[], json!({ "code": code })).await;
    assert_eq!(status, 200, "{check}");
    assert_eq!(
        (check["workspace"].as_str(), check["role"].as_str()),
        (Some("acme"), Some("viewer"))
    );

    let (status, joined) = join(&relay, &code, "Tom's phone").await;
    assert_eq!(status, 200, "{joined}");
    assert_eq!(joined["user"], "Tom Tech");
    let token = joined["token"].as_str().unwrap().to_string();
    // The device syncs with its own token, in its workspace, as a viewer.
    let (status, session) = http_get(
        relay.port,
        "/api/session",
        &[("Authorization", &format!("Bearer {token}"))],
    )
    .await;
    assert_eq!(status, 200);
    let session: Value = serde_json::from_str(&session).unwrap();
    assert_eq!(
        (session["workspace"].as_str(), session["role"].as_str()),
        (Some("acme"), Some("viewer"))
    );
    let mut phone = Peer::new("phone");
    phone
        .connect(&relay.ws(), TokenIn::Subprotocol(token))
        .await
        .unwrap();
    phone.caught_up(WAIT).await.unwrap();

    // Once only: the same link on a second device is refused, and says why.
    let (status, again) = join(&relay, &code, "laptop").await;
    assert_eq!(status, 410, "{again}");
    assert!(
        again["error"].as_str().unwrap().contains("already used"),
        "{again}"
    );
    let (status, unknown) = join(&relay, "inv_00000000000000000000000000000000", "laptop").await;
    assert_eq!(status, 404, "{unknown}");
    assert!(
        unknown["error"].as_str().unwrap().contains("not known"),
        "{unknown}"
    );

    // The device is listed with its name, and the invitation as spent by it.
    let tokens = String::from_utf8(relay.cli(&["token", "list"]).stdout).unwrap();
    assert!(
        tokens
            .lines()
            .any(|l| l.contains("Tom Tech") && l.contains("Tom's phone")),
        "{tokens}"
    );
    let invitations = String::from_utf8(relay.cli(&["invite", "list"]).stdout).unwrap();
    assert!(
        invitations
            .lines()
            .any(|l| l.contains("Tom Tech") && l.contains("spent")),
        "{invitations}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn an_admin_invites_and_revokes_a_device_whose_connection_then_closes() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &[]);
    let admin = relay.token_of("acme", "Ada Admin", "admin");
    let agent = relay.token_of("acme", "Al Agent", "agent");
    let outsider = relay.token_of("other", "Oz Admin", "admin");
    let bearer = |t: &str| format!("Bearer {t}");
    let invite = json!({ "user": "Tom Tech", "role": "agent", "groups": "network", "base": "http://127.0.0.1:8080", "expires": "1d" });

    // Only an admin invites.
    let (status, refused) = http_post_json(
        relay.port,
        "/api/invitations",
        &[("Authorization", &bearer(&agent))],
        invite.clone(),
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("admin role"));
    let (status, made) = http_post_json(
        relay.port,
        "/api/invitations",
        &[("Authorization", &bearer(&admin))],
        invite,
    )
    .await;
    assert_eq!(status, 200, "{made}");
    assert!(
        made["qr_svg"].as_str().unwrap().contains("<svg"),
        "a QR code comes with the link"
    );
    let (status, bad) = http_post_json(
        relay.port,
        "/api/invitations",
        &[("Authorization", &bearer(&admin))],
        json!({ "user": "X", "role": "owner", "base": "http://127.0.0.1:8080" }),
    )
    .await;
    assert_eq!(status, 400);
    assert!(bad["error"]
        .as_str()
        .unwrap()
        .contains("viewer, agent, manager or admin"));

    let (_, joined) = join(
        &relay,
        &code_of(made["link"].as_str().unwrap()),
        "Tom's phone",
    )
    .await;
    let tom = joined["token"].as_str().unwrap().to_string();
    let device = joined["device"].as_str().unwrap().to_string();
    assert_eq!(joined["groups"], json!(["network"]));
    let mut phone = Peer::new("phone");
    phone
        .connect(&relay.ws(), TokenIn::Subprotocol(tom.clone()))
        .await
        .unwrap();
    phone.caught_up(WAIT).await.unwrap();
    // The app reports its version when it asks who it is.
    http_get(
        relay.port,
        "/api/session",
        &[
            ("Authorization", &bearer(&tom)),
            ("X-Outpost-Version", "0.2.0"),
        ],
    )
    .await;

    // The admin sees every device of the workspace; the agent only their own; nobody another
    // workspace's.
    let (_, list) = http_get(
        relay.port,
        "/api/devices",
        &[("Authorization", &bearer(&admin))],
    )
    .await;
    let list: Value = serde_json::from_str(&list).unwrap();
    let toms = list["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == device.as_str())
        .expect("Tom's phone is listed");
    assert_eq!(
        (toms["name"].as_str(), toms["app_version"].as_str()),
        (Some("Tom's phone"), Some("0.2.0"))
    );
    assert!(toms["last_seen"].as_i64().is_some());
    let (_, own) = http_get(
        relay.port,
        "/api/devices",
        &[("Authorization", &bearer(&agent))],
    )
    .await;
    let own: Value = serde_json::from_str(&own).unwrap();
    assert!(
        own["devices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["user"] == "Al Agent"),
        "{own}"
    );

    // Neither the agent nor another workspace's admin can revoke Tom's phone.
    let path = format!("/api/devices/{device}/revoke");
    let (status, _) = http_post_json(
        relay.port,
        &path,
        &[("Authorization", &bearer(&agent))],
        json!({}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = http_post_json(
        relay.port,
        &path,
        &[("Authorization", &bearer(&outsider))],
        json!({}),
    )
    .await;
    assert_eq!(status, 404);
    // The admin can; the phone's open connection is told and closed.
    let (status, revoked) = http_post_json(
        relay.port,
        &path,
        &[("Authorization", &bearer(&admin))],
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{revoked}");
    match phone.pump_until("the revocation", WAIT, |_| false).await {
        Err(PeerError::Refused(why)) => assert!(why.contains("sign-in was revoked"), "{why}"),
        other => panic!("the revoked device stayed connected: {other:?}"),
    }
    let (status, _) = http_get(
        relay.port,
        "/api/session",
        &[("Authorization", &bearer(&tom))],
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "current_thread")]
async fn signing_out_ends_the_device_s_token() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &[]);
    let token = relay.token_of("acme", "Ana", "agent");
    let auth = format!("Bearer {token}");
    let (status, body) = http_post_json(
        relay.port,
        "/api/sign-out",
        &[("Authorization", &auth)],
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = http_get(relay.port, "/api/session", &[("Authorization", &auth)]).await;
    assert_eq!(status, 401, "a signed-out token opens nothing");
    match Peer::new("after")
        .connect(&relay.ws(), TokenIn::Subprotocol(token))
        .await
    {
        Err(PeerError::Connect(e)) => assert!(e.contains("401"), "{e}"),
        other => panic!("a signed-out token still syncs: {other:?}"),
    }
}
