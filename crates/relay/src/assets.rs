//! Serving the single-page app.
//!
//! A request whose last path segment has no file extension is a navigation (`/`, or a deep link
//! such as `/incidents/p3u5…`): it gets `index.html` and the app's router takes over. Anything
//! else is a file, served by path; a missing file is a real 404, so a broken asset reference shows
//! up as an error instead of HTML parsed as JavaScript.
//!
//! `index.html`, `sw.js` and the manifest name the current build, so browsers must revalidate
//! them, and so must `/icons/`, which is copied unhashed because the manifest names its files by
//! fixed paths; everything else Trunk emits has a content hash in its name and is cached for a
//! year.

use std::path::Path;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

/// Whether a path is a navigation rather than a file.
pub fn is_navigation(path: &str) -> bool {
    !path.rsplit('/').next().unwrap_or_default().contains('.')
}

fn names_the_build(path: &str) -> bool {
    is_navigation(path)
        || matches!(path, "/index.html" | "/sw.js" | "/manifest.webmanifest")
        || path.starts_with("/icons/")
}

/// A router serving `dist` as a single-page app.
pub fn router(dist: &Path) -> Router {
    let index = ServeFile::new(dist.join("index.html"))
        .precompressed_br()
        .precompressed_gzip();
    let files = ServeDir::new(dist).precompressed_br().precompressed_gzip();
    let dist = dist.display().to_string();
    Router::new().fallback(move |req: Request<Body>| {
        let (index, files, dist) = (index.clone(), files.clone(), dist.clone());
        async move {
            let path = req.uri().path().to_string();
            let navigation = is_navigation(&path);
            let served = if navigation {
                index.oneshot(req).await
            } else {
                files.oneshot(req).await
            };
            let mut response = match served {
                Ok(r) => r.into_response(),
                Err(e) => {
                    return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
                }
            };
            if navigation && response.status() == StatusCode::NOT_FOUND {
                return missing_build(&dist);
            }
            if response.status().is_success() {
                let cache = if names_the_build(&path) {
                    NO_CACHE
                } else {
                    IMMUTABLE
                };
                response.headers_mut().insert(header::CACHE_CONTROL, cache);
            }
            response
        }
    })
}

fn missing_build(dist: &str) -> Response {
    let message = format!(
        "Outpost has not been built yet: {dist}/index.html is missing. Start it with scripts/run.sh, which builds the app first.\n"
    );
    (StatusCode::SERVICE_UNAVAILABLE, message).into_response()
}
