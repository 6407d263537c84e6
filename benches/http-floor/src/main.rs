//! The throughput floor for `benches/http_side_by_side.sh`: the same axum and Tokio set-up as
//! `ember serve` (multi-thread runtime, TCP_NODELAY), answering `POST /invocations` with a
//! constant and doing nothing else.
//!
//! ```text
//! cargo run --release -p http-floor -- 8081
//! ```

use axum::Router;
use axum::http::header;
use axum::routing::post;
use axum::serve::ListenerExt;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8081);
    let app = Router::new().route(
        "/invocations",
        post(|| async { ([(header::CONTENT_TYPE, "text/csv")], "unacc") }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await?
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    axum::serve(listener, app).await
}
