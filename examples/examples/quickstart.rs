//! Quickstart: the HTTP layer against an in-process sandbox that injects faults.
//!
//! Run with `cargo run --example quickstart`. A sandbox serves a small product list while dropping
//! connections, answering 503 and throttling; the client retries what is safe to retry and reports what
//! it did.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use pos_http::sandbox::{FaultConfig, SandboxServer};
use pos_http::{HttpClient, RetryPolicy};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = Router::new().route(
        "/api/products",
        get(|| async {
            axum::Json(serde_json::json!({"data": [{"sku": "TSHIRT-M"}, {"sku": "MUG"}]}))
        }),
    );
    let sandbox = SandboxServer::start(
        app,
        FaultConfig {
            seed: 42,
            drop_per_mille: 150,
            server_error_per_mille: 150,
            throttle_per_mille: 100,
            throttle_wait: Duration::from_secs(1),
            ..FaultConfig::none()
        },
    )
    .await?;
    let client = HttpClient::builder(sandbox.base_url().join("api/")?.as_str())
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(20),
            max_attempts: 10,
            ..RetryPolicy::default()
        })
        .user_agent("quickstart/0.1")
        .build()?;
    for _ in 0..10 {
        let page: serde_json::Value = client.get("products").json_response().await?;
        assert_eq!(page["data"].as_array().map(Vec::len), Some(2));
    }
    let sent = client.stats();
    let served = sandbox.stats();
    println!("10 reads succeeded through injected faults");
    println!(
        "client: {} requests, {} retries, {} throttled",
        sent.requests, sent.retries, sent.throttled
    );
    println!(
        "sandbox: {} served, {} dropped, {} 5xx, {} 429",
        served.requests, served.dropped, served.server_errors, served.throttled
    );
    Ok(())
}
