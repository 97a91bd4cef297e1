//! Behaviour of the HTTP layer against a mock server: retries, Retry-After, auth refresh, limits, secrets.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use pos_http::{
    AccessToken, AuthError, Error, HttpClient, RateLimit, RefreshingToken, RetryPolicy,
    StaticToken, TokenRefresher,
};
use tokio::time::Instant;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        jitter: false,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        ..RetryPolicy::default()
    }
}

/// Answers from a list in order, then repeats the last one.
struct Sequence(Mutex<Vec<ResponseTemplate>>);

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut list = self.0.lock().unwrap();
        if list.len() > 1 {
            list.remove(0)
        } else {
            list[0].clone()
        }
    }
}

fn seq(list: Vec<ResponseTemplate>) -> Sequence {
    Sequence(Mutex::new(list))
}

#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/items"))
        .respond_with(seq(vec![
            ResponseTemplate::new(429).insert_header("Retry-After", "1"),
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})),
        ]))
        .mount(&server)
        .await;
    let client = HttpClient::builder(format!("{}/api", server.uri()))
        .retry(fast_retry())
        .build()
        .unwrap();
    let start = Instant::now();
    let v: serde_json::Value = client.get("items").json_response().await.unwrap();
    assert_eq!(v["ok"], true);
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    let stats = client.stats();
    assert_eq!(stats.requests, 2);
    assert_eq!(stats.retries, 1);
    assert_eq!(stats.throttled, 1);
}

#[tokio::test]
async fn retry_after_http_date_is_honoured() {
    let server = MockServer::start().await;
    let at = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    Mock::given(method("GET"))
        .respond_with(seq(vec![
            ResponseTemplate::new(429).insert_header("Retry-After", at.as_str()),
            ResponseTemplate::new(200),
        ]))
        .mount(&server)
        .await;
    let client = HttpClient::builder(server.uri())
        .retry(fast_retry())
        .build()
        .unwrap();
    let start = Instant::now();
    client.get("x").send().await.unwrap();
    // The date has whole-second precision: the wait is between 1 and 2 seconds.
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test]
async fn retry_after_beyond_the_cap_ends_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3600"))
        .mount(&server)
        .await;
    let client = HttpClient::builder(server.uri())
        .retry(fast_retry())
        .build()
        .unwrap();
    let start = Instant::now();
    let err = client.get("x").send().await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(3600)),
        "{err:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(client.stats().requests, 1);
}

#[tokio::test]
async fn attempts_are_capped() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let client = HttpClient::builder(server.uri())
        .retry(RetryPolicy {
            max_attempts: 4,
            ..fast_retry()
        })
        .build()
        .unwrap();
    let err = client.get("x").send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(client.stats().requests, 4);
    assert_eq!(client.stats().failures, 1);
}

#[tokio::test]
async fn total_wait_is_capped() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "1"))
        .mount(&server)
        .await;
    let client = HttpClient::builder(server.uri())
        .retry(RetryPolicy {
            max_attempts: 100,
            max_total_wait: Duration::from_millis(2500),
            ..fast_retry()
        })
        .build()
        .unwrap();
    client.get("x").send().await.unwrap_err();
    // waits of 1 s: after two waits a third would pass 2.5 s
    assert_eq!(client.stats().requests, 3);
}

#[tokio::test]
async fn a_post_that_reached_the_server_is_not_retried_unless_marked() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let client = HttpClient::builder(server.uri())
        .retry(fast_retry())
        .build()
        .unwrap();
    let err = client
        .post("orders")
        .json(&serde_json::json!({"n": 1}))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    let marked = client
        .post("orders")
        .json(&serde_json::json!({"n": 1}))
        .retry_safe()
        .send()
        .await;
    assert!(marked.is_err());
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1 + RetryPolicy::default().max_attempts as usize
    );
}

#[tokio::test]
async fn a_throttled_post_is_retried() {
    // A 429 means the server did not act, so repeating a POST is safe.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(seq(vec![
            ResponseTemplate::new(429).insert_header("Retry-After", "0"),
            ResponseTemplate::new(201),
        ]))
        .mount(&server)
        .await;
    let client = HttpClient::builder(server.uri())
        .retry(fast_retry())
        .build()
        .unwrap();
    let resp = client.post("orders").send().await.unwrap();
    assert_eq!(resp.status.as_u16(), 201);
}

#[tokio::test]
async fn a_post_that_never_connected_is_retried() {
    // Nothing listens on this port: the connect fails before anything is sent.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = HttpClient::builder(format!("http://127.0.0.1:{port}/"))
        .retry(RetryPolicy {
            max_attempts: 3,
            ..fast_retry()
        })
        .build()
        .unwrap();
    let err = client.post("orders").send().await.unwrap_err();
    assert!(!err.may_have_reached_server(), "{err:?}");
    assert_eq!(client.stats().requests, 3);
}

#[derive(Debug, Default)]
struct CountingRefresher {
    calls: AtomicU32,
}

#[async_trait]
impl TokenRefresher for CountingRefresher {
    async fn refresh(&self) -> Result<AccessToken, AuthError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(AccessToken {
            token: format!("token-{n}").into(),
            expires_in: Some(Duration::from_secs(3600)),
        })
    }
}

#[tokio::test]
async fn a_401_causes_exactly_one_refresh() {
    let server = MockServer::start().await;
    Mock::given(header("authorization", "Bearer token-1"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(header("authorization", "Bearer token-2"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let refresher = Arc::new(CountingRefresher::default());
    let client = HttpClient::builder(server.uri())
        .auth(RefreshingToken::from_arc(refresher.clone()))
        .build()
        .unwrap();
    client.get("x").send().await.unwrap();
    assert_eq!(refresher.calls.load(Ordering::SeqCst), 2);
    client.get("x").send().await.unwrap();
    assert_eq!(refresher.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_second_401_is_an_auth_error_without_more_refreshes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_string("{\"error\":\"Access token is not valid\"}"),
        )
        .mount(&server)
        .await;
    let refresher = Arc::new(CountingRefresher::default());
    let client = HttpClient::builder(server.uri())
        .auth(RefreshingToken::from_arc(refresher.clone()))
        .build()
        .unwrap();
    let err = client.get("x").send().await.unwrap_err();
    match err {
        Error::Auth(e) => {
            assert!(e.needs_reauthorization(), "{e}");
            assert_eq!(
                e.response_body.as_deref(),
                Some("{\"error\":\"Access token is not valid\"}")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(refresher.calls.load(Ordering::SeqCst), 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn ten_concurrent_callers_cause_one_refresh() {
    let server = MockServer::start().await;
    Mock::given(header("authorization", "Bearer token-1"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let refresher = Arc::new(CountingRefresher::default());
    let client = HttpClient::builder(server.uri())
        .auth(RefreshingToken::from_arc(refresher.clone()))
        .build()
        .unwrap();
    let calls = (0..10).map(|_| {
        let c = client.clone();
        tokio::spawn(async move { c.get("x").send().await.map(|r| r.status) })
    });
    for r in futures::future::join_all(calls).await {
        assert_eq!(r.unwrap().unwrap().as_u16(), 200);
    }
    assert_eq!(refresher.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_limiter_spaces_requests() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let client = HttpClient::builder(server.uri())
        .rate_limit(RateLimit::new(20, Duration::from_secs(1)).burst(1))
        .build()
        .unwrap();
    let start = Instant::now();
    for _ in 0..10 {
        client.get("x").send().await.unwrap();
    }
    // 20 per second with no burst: one every 50 ms.
    assert!(
        start.elapsed() >= Duration::from_millis(440),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn query_and_headers_are_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/search"))
        .and(wiremock::matchers::query_param("type", "sales"))
        .and(wiremock::matchers::query_param("q", "a&b"))
        .and(header("x-extra", "1"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let client = HttpClient::builder(format!("{}/api/2.0", server.uri()))
        .default_header("x-extra", "1")
        .user_agent("test-app/1.0")
        .build()
        .unwrap();
    client
        .get("search")
        .query(&[("type", "sales"), ("q", "a&b")])
        .send()
        .await
        .unwrap();
    let reqs = server.received_requests().await.unwrap();
    let ua = reqs[0].headers.get("user-agent").unwrap().to_str().unwrap();
    assert!(ua.starts_with("test-app/1.0 pos-http/"), "{ua}");
}

/// Captures everything `tracing` writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn tokens_never_reach_debug_or_logs() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(seq(vec![
            ResponseTemplate::new(503),
            ResponseTemplate::new(200),
        ]))
        .mount(&server)
        .await;
    let client = HttpClient::builder(server.uri())
        .auth(StaticToken::bearer("sentinel-secret-123".into()))
        .retry(fast_retry())
        .build()
        .unwrap();
    client
        .get("customers")
        .query(&[("email", "a@b.example")])
        .send()
        .await
        .unwrap();
    let debug = format!("{client:?}");
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("customers"), "spans were captured: {logs}");
    for text in [&debug, &logs] {
        assert!(!text.contains("sentinel-secret-123"));
        assert!(!text.contains("a@b.example"), "query values are not logged");
    }
}
