//! The HTTP server: the router, binding, and graceful shutdown.

use std::future::Future;
use std::io;

use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::assets;
use crate::cli::Config;

/// The whole application, without a socket: tests drive it with `oneshot`.
pub fn app(config: &Config) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(assets::router(&config.dist))
        .layer(TraceLayer::new_for_http())
}

/// Prepares the data directory.
pub fn prepare_data_dir(config: &Config) -> io::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes in-flight requests.
pub async fn run(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
