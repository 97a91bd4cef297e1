//! Rate limits and injected faults against the sandbox.
#![cfg(feature = "sandbox")]

use lightspeed_x::sandbox::{DemoData, FaultConfig, Sandbox, SandboxConfig};
use lightspeed_x::*;
use std::time::Duration;

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 8,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

#[tokio::test]
async fn rate_limit_answers_429_with_http_date_and_the_client_waits() {
    let config = SandboxConfig {
        rate_limit: Some((4, Duration::from_secs(1))),
        ..SandboxConfig::default()
    };
    let sb = Sandbox::start_with(config, Some(DemoData::default()))
        .await
        .unwrap();
    // The raw 429 has Lightspeed's body and an HTTP-date Retry-After.
    let raw = reqwest::Client::new();
    let url = format!("{}api/2.0/outlets", sb.base_url());
    let mut saw_429 = false;
    for _ in 0..6 {
        let r = raw
            .get(&url)
            .bearer_auth(sb.config().personal_token.clone().unwrap())
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            let ra = r.headers()["retry-after"].to_str().unwrap().to_owned();
            assert!(httpdate::parse_http_date(&ra).is_ok(), "{ra}");
            assert!(r.text().await.unwrap().contains("Rate limiting enforced"));
            saw_429 = true;
        } else {
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["x-ratelimit-limit"], "4");
            assert!(r.headers().contains_key("x-ratelimit-remaining"));
        }
    }
    assert!(saw_429);
    // With retries, every call succeeds.
    let client = sb
        .client_builder()
        .retry(fast_retries())
        .build()
        .await
        .unwrap();
    for _ in 0..6 {
        client.payment_types().list().all().await.unwrap();
    }
    assert!(client.stats().throttled >= 1);
    assert!(sb.stats().throttled >= 2);
}

#[tokio::test]
async fn reads_survive_server_errors_and_dropped_connections() {
    let sb = Sandbox::start_seeded(DemoData::default()).await.unwrap();
    sb.faults().update(|f| {
        f.server_error_per_mille = 200;
        f.drop_per_mille = 100;
        f.seed = 7;
    });
    let client = sb
        .client_builder()
        .retry(fast_retries())
        .build()
        .await
        .unwrap();
    let products = client.products().list().page_size(3).all().await.unwrap();
    assert_eq!(products.len(), sb.state().products().len());
    let stats = sb.stats();
    assert!(stats.server_errors + stats.dropped > 0, "{stats:?}");
    assert!(client.stats().retries > 0);
}

#[tokio::test]
async fn lost_response_on_create_is_reported_and_the_write_was_committed() {
    let sb = Sandbox::start_with(
        SandboxConfig {
            faults: FaultConfig {
                lost_response_per_mille: 1000,
                ..FaultConfig::none()
            },
            ..SandboxConfig::default()
        },
        None,
    )
    .await
    .unwrap();
    let client = sb
        .client_builder()
        .retry(fast_retries())
        .build()
        .await
        .unwrap();
    let err = client
        .customers()
        .create(&CustomerInput {
            first_name: Some("Lost".into()),
            last_name: Some("Response".into()),
            email: Some("lost@example.com".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(err.may_have_reached_server(), "{err:?}");
    // Not retried blindly: exactly one customer exists, and a lookup finds it.
    sb.faults().clear();
    assert_eq!(sb.state().customers().len(), 1);
    let found = client
        .customers()
        .find_by_email("lost@example.com")
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
}
