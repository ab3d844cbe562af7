//! The relay serves the built app: files by path, index.html for deep links, real 404s.

use std::path::Path;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use outpost_relay::cli::Config;
use outpost_relay::server::{app, RelayState};
use tower::ServiceExt;

fn built_app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>Outpost</title>",
    )
    .unwrap();
    std::fs::write(dir.path().join("outpost-1a2b.js"), "export default 1;").unwrap();
    std::fs::write(dir.path().join("sw.js"), "// worker").unwrap();
    std::fs::write(dir.path().join("manifest.webmanifest"), "{}").unwrap();
    std::fs::create_dir(dir.path().join("icons")).unwrap();
    std::fs::write(dir.path().join("icons/outpost-192.png"), "png").unwrap();
    dir
}

async fn get(dist: &Path, path: &str) -> (StatusCode, Option<String>, String) {
    let state = RelayState::open(&Config::new(dist, dist.join("data"))).unwrap();
    let response = app(state.clone())
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    state.shut_down();
    let status = response.status();
    let cache = response
        .headers()
        .get(header::CACHE_CONTROL)
        .map(|v| v.to_str().unwrap().to_string());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, cache, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn serves_the_app_shell_and_deep_links() {
    let dist = built_app();
    for path in ["/", "/incidents/p3u5PhN9wrNpsGCwfkeef2LzF9", "/settings"] {
        let (status, cache, body) = get(dist.path(), path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(body.contains("<title>Outpost</title>"), "{path}");
        assert_eq!(cache.as_deref(), Some("no-cache"), "{path}");
    }
}

#[tokio::test]
async fn serves_hashed_assets_for_a_year_and_missing_ones_as_404() {
    let dist = built_app();
    let (status, cache, body) = get(dist.path(), "/outpost-1a2b.js").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "export default 1;")
    );
    assert_eq!(
        cache.as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    let (status, _, body) = get(dist.path(), "/outpost-gone.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        !body.contains("<title>"),
        "a missing script must not be answered with HTML"
    );
}

#[tokio::test]
async fn revalidates_the_service_worker_manifest_and_unhashed_icons() {
    let dist = built_app();
    for path in ["/sw.js", "/manifest.webmanifest", "/icons/outpost-192.png"] {
        let (status, cache, _) = get(dist.path(), path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(cache.as_deref(), Some("no-cache"), "{path}");
    }
    let state = RelayState::open(&Config::new(dist.path(), dist.path().join("data"))).unwrap();
    let response = app(state.clone())
        .oneshot(
            Request::get("/manifest.webmanifest")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    state.shut_down();
    assert_eq!(
        response.headers().get(header::CONTENT_TYPE).unwrap(),
        "application/manifest+json"
    );
}

#[tokio::test]
async fn says_so_when_the_app_has_not_been_built() {
    let empty = tempfile::tempdir().unwrap();
    let (status, _, body) = get(empty.path(), "/").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("has not been built yet"), "{body}");
}

#[tokio::test]
async fn answers_health_checks() {
    let dist = built_app();
    assert_eq!(get(dist.path(), "/healthz").await.2, "ok");
}

#[tokio::test]
async fn statistics_are_refused_to_other_machines() {
    let dist = built_app();
    let state = RelayState::open(&Config::new(dist.path(), dist.path().join("data"))).unwrap();
    let from =
        |ip: [u8; 4]| {
            let mut request = Request::get("/api/stats").body(Body::empty()).unwrap();
            request.extensions_mut().insert(axum::extract::ConnectInfo(
                std::net::SocketAddr::from((ip, 40000)),
            ));
            request
        };
    let far = app(state.clone())
        .oneshot(from([192, 0, 2, 7]))
        .await
        .unwrap();
    let near = app(state.clone())
        .oneshot(from([127, 0, 0, 1]))
        .await
        .unwrap();
    state.shut_down();
    assert_eq!(far.status(), StatusCode::FORBIDDEN);
    assert_eq!(near.status(), StatusCode::OK);
    let body = near.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("\"hub_delay\""));
}
