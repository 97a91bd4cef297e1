//! Secrets never show in `Debug`, `Display` or logs (a whole OAuth session against the sandbox with
//! sentinel secrets, captured at TRACE), and webhook deliveries with a bad or missing signature
//! are refused.
#![cfg(feature = "sandbox")]

use lightspeed_x::sandbox::{DemoData, Sandbox, SandboxConfig};
use lightspeed_x::webhook::{self, WebhookDelivery, WebhookError};
use lightspeed_x::*;
use pos_http::ExposeSecret;
use std::io::Write;
use std::sync::{Arc, Mutex};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CLIENT_SECRET: &str = "SENTINEL-client-secret-7f3a";
const PERSONAL_TOKEN: &str = "SENTINEL-personal-token-91c2";
const REDIRECT: &str = "https://app.example/callback";

/// Everything written by `tracing`, at every level.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> (Captured, tracing::dispatcher::DefaultGuard) {
    use tracing_subscriber::util::SubscriberInitExt;
    let captured = Captured::default();
    let writer = captured.clone();
    let guard = tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish()
        .set_default();
    (captured, guard)
}

fn assert_no_secret(haystack: &str, secrets: &[String]) {
    for s in secrets {
        assert!(!s.is_empty());
        assert!(
            !haystack.contains(s.as_str()),
            "secret {s:?} leaked in:\n{haystack}"
        );
    }
}

/// A whole session: authorise, exchange, read every resource, refresh after expiry, webhooks,
/// then a revoked grant. The current-thread runtime keeps the sandbox's own tasks inside the
/// capture too.
#[tokio::test]
async fn a_whole_session_never_shows_a_secret() {
    let (logs, _guard) = capture_logs();
    let config = SandboxConfig {
        client_secret: CLIENT_SECRET.into(),
        personal_token: Some(PERSONAL_TOKEN.into()),
        ..SandboxConfig::default()
    };
    let sb = Sandbox::start_with(config, Some(DemoData::default()))
        .await
        .unwrap();
    let mut shown = Vec::new();
    let mut secrets = vec![CLIENT_SECRET.to_owned(), PERSONAL_TOKEN.to_owned()];

    // OAuth: the code, the first pair, the client.
    let app = sb.oauth_app(REDIRECT);
    let callback_url = sb.approve(REDIRECT, "state-0123456789");
    let callback = app
        .parse_callback(&callback_url, "state-0123456789")
        .unwrap();
    secrets.push(callback.code.expose_secret().to_owned());
    let tokens = app.exchange_code(&callback).await.unwrap();
    secrets.push(tokens.access_token.expose_secret().to_owned());
    secrets.push(tokens.refresh_token.expose_secret().to_owned());
    shown.push(format!("{app:?} {callback:?} {tokens:?}"));
    let reused = app.exchange_code(&callback).await.unwrap_err();
    shown.push(format!("{reused:?} {reused}"));

    let store = MemoryTokenStore::new();
    store.save(&tokens).await.unwrap();
    let builder = Client::builder()
        .base_url(sb.base_url().as_str())
        .domain_prefix("demo")
        .oauth(app.clone(), Arc::new(store.clone()))
        .unlimited();
    shown.push(format!("{builder:?}"));
    let client = builder.build().await.unwrap();
    shown.push(format!("{client:?} {store:?}"));

    assert!(!client.outlets().list().all().await.unwrap().is_empty());
    assert!(!client.products().list().all().await.unwrap().is_empty());
    assert!(!client.customers().list().all().await.unwrap().is_empty());
    client.sales().list().all().await.unwrap();
    let stream = client.customers().list().page_size(2).stream();
    shown.push(format!("{stream:?}"));

    // Webhooks, signed with the client secret.
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let hook = client
        .webhooks()
        .create(
            &format!("{}/hook", receiver.uri()),
            WebhookType::CustomerUpdate,
        )
        .await
        .unwrap();
    shown.push(format!("{hook:?}"));
    let customer = sb.state().customers().live()[0].id.clone();
    sb.update_customer(&customer, |c| c.note = Some("vip".into()));
    sb.flush_webhooks().await;

    // Expiry: refreshed once, the rotated pair saved first.
    sb.expire_access_tokens();
    client.outlets().list().all().await.unwrap();
    let rotated = store.get("demo").unwrap();
    assert_ne!(
        rotated.refresh_token.expose_secret(),
        tokens.refresh_token.expose_secret()
    );
    secrets.push(rotated.access_token.expose_secret().to_owned());
    secrets.push(rotated.refresh_token.expose_secret().to_owned());
    shown.push(format!("{rotated:?}"));

    // Revoked grant: a clear "authorise again", without the tokens.
    sb.revoke_refresh_tokens();
    sb.expire_access_tokens();
    let revoked = client.outlets().list().all().await.unwrap_err();
    assert!(revoked.needs_reauthorization(), "{revoked:?}");
    shown.push(format!("{revoked:?} {revoked}"));
    let refused = app
        .refresh("demo", &rotated.refresh_token)
        .await
        .unwrap_err();
    shown.push(format!("{refused:?} {refused}"));

    // The personal token works and never shows either.
    let pt = sb.client_builder();
    shown.push(format!("{pt:?}"));
    let pt = pt.build().await.unwrap();
    pt.outlets().list().all().await.unwrap();
    shown.push(format!("{pt:?} {sb:?}"));

    let deliveries = sb.state().deliveries().to_vec();
    assert!(!deliveries.is_empty(), "the webhook was delivered");
    drop(sb);

    let log = logs.text();
    assert!(log.contains("http"), "the capture saw the requests:\n{log}");
    assert!(log.contains("TRACE") || log.contains("DEBUG"));
    assert_no_secret(&shown.join("\n"), &secrets);
    assert_no_secret(&log, &secrets);
    for d in deliveries {
        assert_no_secret(&format!("{d:?}"), &[CLIENT_SECRET.to_owned()]);
    }
}

#[tokio::test]
async fn token_endpoint_errors_that_echo_secrets_are_redacted() {
    let (logs, _guard) = capture_logs();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/1.0/token"))
        .respond_with(|req: &wiremock::Request| {
            // A hostile endpoint echoing the whole form back, as JSON and as text.
            let form = String::from_utf8_lossy(&req.body).into_owned();
            let status = if form.contains("refresh_token=") {
                400
            } else {
                401
            };
            ResponseTemplate::new(status).set_body_json(serde_json::json!({
                "error": "invalid_client",
                "error_description": format!("you sent {form}"),
            }))
        })
        .mount(&server)
        .await;
    let app = OAuthApp::new("cid", SecretString::from(CLIENT_SECRET), REDIRECT)
        .with_token_base_url(server.uri());
    let callback = app
        .parse_callback(
            "code=SENTINEL-code-55&domain_prefix=demo&state=state-123456",
            "state-123456",
        )
        .unwrap();
    let e1 = app.exchange_code(&callback).await.unwrap_err();
    let e2 = app
        .refresh("demo", &SecretString::from("SENTINEL-refresh-66"))
        .await
        .unwrap_err();
    assert!(e1.needs_reauthorization() && e2.needs_reauthorization());
    let shown = format!("{e1:?} {e1} {e2:?} {e2}");
    assert!(shown.contains("invalid_client"), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
    let secrets = [
        CLIENT_SECRET.to_owned(),
        "SENTINEL-code-55".to_owned(),
        "SENTINEL-refresh-66".to_owned(),
    ];
    assert_no_secret(&shown, &secrets);
    assert_no_secret(&logs.text(), &secrets);

    // Not JSON: the echoed text is redacted too.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(|req: &wiremock::Request| {
            ResponseTemplate::new(503).set_body_raw(req.body.clone(), "text/plain")
        })
        .mount(&server)
        .await;
    let app = OAuthApp::new("cid", SecretString::from(CLIENT_SECRET), REDIRECT)
        .with_token_base_url(server.uri());
    let e = app
        .refresh("demo", &SecretString::from("SENTINEL-refresh-66"))
        .await
        .unwrap_err();
    let shown = format!("{e:?} {e}");
    assert!(!e.needs_reauthorization(), "{shown}");
    assert_no_secret(&shown, &secrets);
}

#[test]
fn builders_apps_and_token_sets_redact_in_debug() {
    let app = OAuthApp::new("cid", SecretString::from(CLIENT_SECRET), REDIRECT);
    let tokens = TokenSet {
        access_token: SecretString::from("SENTINEL-access"),
        refresh_token: SecretString::from("SENTINEL-refresh"),
        expires_at: None,
        domain_prefix: "demo".into(),
        scope: Some("products:read".into()),
    };
    let builder = Client::builder()
        .domain_prefix("demo")
        .personal_token(SecretString::from(PERSONAL_TOKEN));
    let oauth_builder = Client::builder()
        .domain_prefix("demo")
        .oauth(app.clone(), Arc::new(MemoryTokenStore::new()))
        .oauth_tokens(tokens.clone());
    let store = MemoryTokenStore::new();
    futures::executor::block_on(store.save(&tokens)).unwrap();
    let shown = format!("{app:?} {tokens:?} {builder:?} {oauth_builder:?} {store:?}");
    assert!(shown.contains("demo") && shown.contains("cid"), "{shown}");
    for s in [
        CLIENT_SECRET,
        PERSONAL_TOKEN,
        "SENTINEL-access",
        "SENTINEL-refresh",
    ] {
        assert!(!shown.contains(s), "{s} in {shown}");
    }
}

#[tokio::test]
async fn sandbox_deliveries_verify_and_forgeries_are_refused() {
    let config = SandboxConfig {
        client_secret: CLIENT_SECRET.into(),
        ..SandboxConfig::default()
    };
    let sb = Sandbox::start_with(config, Some(DemoData::default()))
        .await
        .unwrap();
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let client = sb.client().await.unwrap();
    client
        .webhooks()
        .create(
            &format!("{}/hook", receiver.uri()),
            WebhookType::CustomerUpdate,
        )
        .await
        .unwrap();
    let customer = sb.state().customers().live()[0].id.clone();
    sb.update_customer(&customer, |c| c.note = Some("changed".into()));
    sb.flush_webhooks().await;

    let received = receiver.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let req = &received[0];
    let header = req
        .headers
        .get("x-signature")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let secret = SecretString::from(CLIENT_SECRET);
    // The genuine delivery verifies and parses.
    webhook::verify_signature(&secret, &header, &req.body).unwrap();
    let delivery = WebhookDelivery::parse(&req.body).unwrap();
    assert!(delivery.event(None).is_ok());

    // Missing, malformed, wrong-secret, wrong-algorithm and tampered deliveries are refused.
    assert_eq!(
        webhook::verify_signature(&secret, "", &req.body),
        Err(WebhookError::MalformedSignature)
    );
    assert_eq!(
        webhook::verify_signature(&secret, "algorithm=HMAC-SHA256", &req.body),
        Err(WebhookError::MalformedSignature)
    );
    assert_eq!(
        webhook::verify_signature(&SecretString::from("guess"), &header, &req.body),
        Err(WebhookError::BadSignature)
    );
    assert!(matches!(
        webhook::verify_signature(
            &secret,
            &header.replace("HMAC-SHA256", "HMAC-SHA1"),
            &req.body
        ),
        Err(WebhookError::UnsupportedAlgorithm(_))
    ));
    let mut tampered = req.body.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    assert_eq!(
        webhook::verify_signature(&secret, &header, &tampered),
        Err(WebhookError::BadSignature)
    );
    // A signature for another body (a replayed header) is refused.
    let other = webhook::sign(&secret, b"payload=%7B%7D");
    assert_eq!(
        webhook::verify_signature(&secret, &other, &req.body),
        Err(WebhookError::BadSignature)
    );
    // The sandbox's record of the delivery does not hold the secret.
    let d = sb.state().deliveries().to_vec();
    assert!(!format!("{d:?}").contains(CLIENT_SECRET));
}
