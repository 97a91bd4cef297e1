//! Secrets never show in `Debug`, `Display` or logs (a whole session against the sandbox, captured
//! at TRACE), token endpoints that echo the secret are redacted, and notifications with a wrong
//! `clientState` are refused.

use business_central::models::{SalesOrderInput, SalesOrderLineInput};
use business_central::query::{Field, Query};
use business_central::sandbox::{self, Sandbox};
use business_central::webhook::{WebhookHandler, WebhookReply};
use business_central::{Client, ClientCredentials, Error, SecretString};
use futures::TryStreamExt;
use rust_decimal::Decimal;
use std::io::Write;
use std::sync::{Arc, Mutex};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

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

fn assert_no_secret(haystack: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!s.is_empty());
        assert!(!haystack.contains(s), "secret {s:?} leaked in:\n{haystack}");
    }
}

/// Reads, a deep insert, a batch, a revoked token and refused credentials, on a current-thread
/// runtime so the sandbox's own tasks are captured too. The sandbox's access tokens all start
/// with `sandbox-token-`.
#[tokio::test]
async fn a_whole_session_never_shows_a_secret() {
    let (logs, _guard) = capture_logs();
    let sb = Sandbox::start().await.unwrap();
    let mut shown = Vec::new();
    let secrets = [sandbox::CLIENT_SECRET, sandbox::BASIC_KEY, "sandbox-token-"];

    let builder = sb.client_builder();
    shown.push(format!("{builder:?} {:?}", sb.credentials()));
    let client = builder.build().unwrap();
    shown.push(format!("{client:?}"));
    let company = client.company(sb.company_id());
    let customers = company.customers().list_all(Query::new()).await.unwrap();
    assert!(!customers.is_empty());
    let items: Vec<_> = company
        .items()
        .list(Query::new().filter(Field::new("number").eq("1000")))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 1);
    let order = company
        .sales_orders()
        .create_with_lines(
            &SalesOrderInput::new()
                .customer_number(customers[0].number.clone())
                .external_document_number("POS-SEC-1")
                .line(
                    SalesOrderLineInput::new()
                        .line_object_number("1000")
                        .quantity(Decimal::ONE),
                ),
        )
        .await
        .unwrap();
    shown.push(format!("{order:?}"));
    let missing = company
        .items()
        .get(&business_central::ItemId(uuid_nil()))
        .await
        .unwrap_err();
    shown.push(format!("{missing:?} {missing}"));

    // A revoked token: refreshed once, the call goes on.
    sb.revoke_tokens();
    company.customers().list_all(Query::new()).await.unwrap();
    assert_eq!(sb.tokens_issued(), 2);

    // Basic auth, on-premises style.
    let basic = Client::builder()
        .on_premises(sb.on_premises_url())
        .basic_auth(sandbox::BASIC_USER, SecretString::from(sandbox::BASIC_KEY));
    shown.push(format!("{basic:?}"));
    let basic = basic.build().unwrap();
    basic.companies().list_all(Query::new()).await.unwrap();
    shown.push(format!("{basic:?}"));

    // Refused credentials: a clear auth error without the secret.
    let wrong = Client::builder()
        .base_url(sb.base_url())
        .client_credentials(
            ClientCredentials::new(
                sandbox::TENANT,
                sandbox::CLIENT_ID,
                SecretString::from("SENTINEL-wrong-secret-42"),
            )
            .token_url(sb.token_url()),
        )
        .build()
        .unwrap();
    let refused = wrong.companies().list_all(Query::new()).await.unwrap_err();
    assert!(matches!(refused, Error::Auth(_)), "{refused:?}");
    shown.push(format!("{refused:?} {refused} {wrong:?}"));
    drop(sb);

    let log = logs.text();
    assert!(log.contains("http"), "the capture saw the requests:\n{log}");
    let mut all = secrets.to_vec();
    all.push("SENTINEL-wrong-secret-42");
    assert_no_secret(&shown.join("\n"), &all);
    assert_no_secret(&log, &all);
}

fn uuid_nil() -> uuid::Uuid {
    uuid::Uuid::from_u128(0x0bad_0000_0000_4000_8000_0000_0000_0001)
}

#[tokio::test]
async fn token_endpoint_errors_that_echo_the_secret_are_redacted() {
    let (logs, _guard) = capture_logs();
    for status in [401u16, 500] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(move |req: &wiremock::Request| {
                let form = String::from_utf8_lossy(&req.body).into_owned();
                ResponseTemplate::new(status).set_body_json(serde_json::json!({
                    "error": "invalid_client",
                    "error_description": format!("AADSTS7000215: you sent {form}"),
                }))
            })
            .mount(&server)
            .await;
        let client = Client::builder()
            .base_url(format!("{}/v2.0/t/production", server.uri()))
            .client_credentials(
                ClientCredentials::new("t", "cid", SecretString::from("SENTINEL-secret-77"))
                    .token_url(format!("{}/t/oauth2/v2.0/token", server.uri())),
            )
            .retry(business_central::RetryPolicy::none())
            .build()
            .unwrap();
        let e = client.companies().list_all(Query::new()).await.unwrap_err();
        let shown = format!("{e:?} {e}");
        assert!(shown.contains("invalid_client"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
        assert_no_secret(&shown, &["SENTINEL-secret-77"]);
    }
    assert_no_secret(&logs.text(), &["SENTINEL-secret-77"]);
}

#[test]
fn credentials_and_handlers_redact_in_debug() {
    let creds = ClientCredentials::new("t", "cid", SecretString::from("SENTINEL-cc"));
    let builder = Client::builder()
        .cloud("t", "production")
        .client_credentials(creds.clone());
    let basic = Client::builder()
        .on_premises("https://bc.example:7048/BC")
        .basic_auth("ADMIN", SecretString::from("SENTINEL-key"));
    let bearer = Client::builder()
        .cloud("t", "production")
        .bearer_token(SecretString::from("SENTINEL-bearer"));
    let handler = WebhookHandler::new(SecretString::from("SENTINEL-state"));
    let shown = format!("{creds:?} {builder:?} {basic:?} {bearer:?} {handler:?}");
    let built = format!(
        "{:?} {:?} {:?}",
        builder.build().unwrap(),
        basic.build().unwrap(),
        bearer.build().unwrap()
    );
    assert!(shown.contains("cid"), "{shown}");
    for s in [
        "SENTINEL-cc",
        "SENTINEL-key",
        "SENTINEL-bearer",
        "SENTINEL-state",
    ] {
        assert!(
            !shown.contains(s) && !built.contains(s),
            "{s} in {shown} {built}"
        );
    }
}

#[tokio::test]
async fn sandbox_notifications_are_checked_against_client_state() {
    let sb = Sandbox::builder()
        .webhook_handshake(false)
        .start()
        .await
        .unwrap();
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&receiver)
        .await;
    let client = sb.client();
    let company = client.company(sb.company_id());
    let resource = format!("/api/v2.0/companies({})/customers", sb.company_id());
    let state = SecretString::from("SENTINEL-client-state-31");
    let sub = client
        .subscriptions()
        .subscribe(&format!("{}/hook", receiver.uri()), &resource, &state)
        .await
        .unwrap();
    let created = company.customers().list_all(Query::new()).await.unwrap();
    let first = &created[0];
    company
        .customers()
        .update_entity(
            first,
            &business_central::models::CustomerInput::new().display_name("Changed Name"),
        )
        .await
        .unwrap();
    assert!(sb.deliver_notifications().await >= 1);
    let received = receiver.received_requests().await.unwrap();
    assert!(!received.is_empty());
    let body = &received[0].body;

    // The right clientState accepts; any other refuses the whole call with 400.
    let good = WebhookHandler::new(state.clone()).handle(None, body);
    assert!(
        matches!(&good, WebhookReply::Notifications(n) if !n.is_empty()),
        "{good:?}"
    );
    assert_eq!(good.status(), 202);
    for other in ["", "SENTINEL-client-state-3", "sentinel-client-state-31"] {
        let bad = WebhookHandler::new(SecretString::from(other)).handle(None, body);
        assert!(
            matches!(bad, WebhookReply::Rejected(_)),
            "{other:?}: {bad:?}"
        );
        assert_eq!(bad.status(), 400);
        assert!(!format!("{bad:?}").contains("SENTINEL-client-state-31"));
    }
    // A forged call without any clientState is refused.
    let forged = String::from_utf8_lossy(body).replace("SENTINEL-client-state-31", "");
    assert_eq!(
        WebhookHandler::new(state)
            .handle(None, forged.as_bytes())
            .status(),
        400
    );
    drop(sub);
}
