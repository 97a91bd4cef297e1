//! The shared sandbox plumbing: faults really happen, and the client reacts to them as designed.
#![cfg(feature = "sandbox")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use pos_http::sandbox::{FaultConfig, SandboxServer};
use pos_http::{Error, HttpClient, RetryPolicy};

fn app(writes: Arc<AtomicU32>) -> Router {
    Router::new().route("/items", get(|| async { "[]" })).route(
        "/items",
        post(move || {
            let writes = writes.clone();
            async move {
                writes.fetch_add(1, Ordering::SeqCst);
                "created"
            }
        }),
    )
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

#[tokio::test]
async fn a_lost_response_is_committed_and_not_retried() {
    let writes = Arc::new(AtomicU32::new(0));
    let server = SandboxServer::start(
        app(writes.clone()),
        FaultConfig {
            lost_response_per_mille: 1000,
            ..FaultConfig::none()
        },
    )
    .await
    .unwrap();
    let client = HttpClient::builder(server.base_url().as_str())
        .retry(quick())
        .build()
        .unwrap();
    let err = client.post("items").send().await.unwrap_err();
    assert!(err.may_have_reached_server(), "{err:?}");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(
        writes.load(Ordering::SeqCst),
        1,
        "the write was applied once"
    );
    assert_eq!(server.stats().lost_responses, 1);
    // GETs are never "lost": they are reads.
    client.get("items").send().await.unwrap();
}

#[tokio::test]
async fn dropped_connections_and_5xx_on_reads_are_retried() {
    let server = SandboxServer::start(
        app(Arc::new(AtomicU32::new(0))),
        FaultConfig {
            seed: 7,
            drop_per_mille: 300,
            server_error_per_mille: 300,
            ..FaultConfig::none()
        },
    )
    .await
    .unwrap();
    let client = HttpClient::builder(server.base_url().as_str())
        .retry(RetryPolicy {
            max_attempts: 20,
            ..quick()
        })
        .build()
        .unwrap();
    for _ in 0..20 {
        client.get("items").send().await.unwrap();
    }
    let served = server.stats();
    assert!(served.dropped + served.server_errors > 0, "{served:?}");
    assert_eq!(served.requests, client.stats().requests);
    assert_eq!(served.count("GET /items"), served.requests);
}

#[tokio::test]
async fn the_server_side_limit_answers_429_and_the_client_waits() {
    let server = SandboxServer::start(
        app(Arc::new(AtomicU32::new(0))),
        FaultConfig {
            rate_limit: Some((5, Duration::from_millis(500))),
            ..FaultConfig::none()
        },
    )
    .await
    .unwrap();
    let client = HttpClient::builder(server.base_url().as_str())
        .retry(quick())
        .build()
        .unwrap();
    let start = std::time::Instant::now();
    for _ in 0..8 {
        client.get("items").send().await.unwrap();
    }
    assert!(server.stats().throttled >= 1);
    assert!(client.stats().throttled >= 1);
    assert!(start.elapsed() >= Duration::from_millis(400));
}
