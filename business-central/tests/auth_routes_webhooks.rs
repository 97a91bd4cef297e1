//! Authentication, URL forms, company scoping, custom API routes, webhook subscriptions and
//! limits against the sandbox.

use std::time::Duration;

use business_central::entity::{Entity, WritableEntity};
use business_central::models::*;
use business_central::query::{Field, Query};
use business_central::sandbox::{self, Sandbox};
use business_central::{
    Client, ClientCredentials, ETag, Error, ErrorFamily, RetryPolicy, SecretString,
};
use futures::TryStreamExt;
use pos_http::sandbox::FaultConfig;
use serde::{Deserialize, Serialize};

#[tokio::test]
async fn client_credentials_token_is_cached_and_single_flight() {
    let sb = Sandbox::start().await.unwrap();
    let client = sb.client();
    let customers = client.company(sb.company_id()).customers();
    let reads = (0..10).map(|_| customers.list_all(Query::new()));
    let results = futures::future::join_all(reads).await;
    assert!(results.iter().all(Result::is_ok));
    for _ in 0..3 {
        customers.list_all(Query::new()).await.unwrap();
    }
    assert_eq!(
        sb.tokens_issued(),
        1,
        "one token for 13 concurrent and sequential calls"
    );

    // A revoked token: 401, one refresh, the call succeeds.
    sb.revoke_tokens();
    customers.list_all(Query::new()).await.unwrap();
    assert_eq!(sb.tokens_issued(), 2);
}

#[tokio::test]
async fn token_refreshed_shortly_before_expiry() {
    // Tokens living 60 s are inside the refresh margin at once, so every call fetches a new one.
    let sb = Sandbox::builder()
        .token_lifetime(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let client = sb.client();
    for _ in 0..3 {
        client.companies().list_all(Query::new()).await.unwrap();
    }
    assert_eq!(sb.tokens_issued(), 3);
}

#[tokio::test]
async fn bad_credentials_are_auth_errors() {
    let sb = Sandbox::start().await.unwrap();
    let client = Client::builder()
        .base_url(sb.base_url())
        .client_credentials(
            ClientCredentials::new(
                sandbox::TENANT,
                sandbox::CLIENT_ID,
                SecretString::from("wrong"),
            )
            .token_url(sb.token_url()),
        )
        .build()
        .unwrap();
    let err = client.companies().list_all(Query::new()).await.unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err:?}");
    assert!(
        !err.to_string().contains("wrong"),
        "no secret in errors: {err}"
    );
}

#[tokio::test]
async fn on_premises_basic_auth_and_company_scoping() {
    let sb = Sandbox::start().await.unwrap();
    let client = Client::builder()
        .on_premises(sb.on_premises_url())
        .basic_auth(sandbox::BASIC_USER, SecretString::from(sandbox::BASIC_KEY))
        .build()
        .unwrap();
    let items = client
        .company(sb.company_id())
        .items()
        .list_all(Query::new())
        .await
        .unwrap();
    assert_eq!(items.len(), 9);
    let bad = Client::builder()
        .on_premises(sb.on_premises_url())
        .basic_auth(sandbox::BASIC_USER, SecretString::from("nope"))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = bad.companies().list_all(Query::new()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Auth(_))
            || err
                .code()
                .is_some_and(|c| c.family() == ErrorFamily::Authentication),
        "{err:?}"
    );

    // A second company is isolated from the first.
    let other = sb.add_company("Second Company");
    let empty = client
        .company(other)
        .customers()
        .list_all(Query::new())
        .await
        .unwrap();
    assert!(empty.is_empty());
    client
        .company(other)
        .customers()
        .create(&CustomerInput::new().display_name("Only here"))
        .await
        .unwrap();
    assert_eq!(sb.entities_in::<Customer>(other).len(), 1);
    assert_eq!(sb.entities::<Customer>().len(), 8);
}

/// An entity of a custom API page.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CarBrand {
    #[serde(rename = "@odata.etag")]
    etag: Option<ETag>,
    id: Option<uuid::Uuid>,
    name: String,
    country: String,
}

#[derive(Debug, Clone, Default, Serialize)]
struct CarBrandInput {
    name: String,
    country: String,
}

impl Entity for CarBrand {
    const ENTITY_SET: &'static str = "carBrands";
    const MAX_LENGTHS: &'static [(&'static str, usize)] = &[("name", 20)];
    type Id = uuid::Uuid;
    fn entity_id(&self) -> Option<uuid::Uuid> {
        self.id
    }
    fn etag(&self) -> Option<&ETag> {
        self.etag.as_ref()
    }
}

impl WritableEntity for CarBrand {
    type Input = CarBrandInput;
}

#[tokio::test]
async fn custom_api_routes_are_typed_entity_sets() {
    let sb = Sandbox::start().await.unwrap();
    sb.add_custom_api("contoso", "pos", "v1.0", &["carBrands"]);
    let client = sb.client();
    let api = client.custom_api("contoso", "pos", "v1.0").unwrap();
    let brands = api
        .company(sb.company_id())
        .entity_set::<CarBrand>("carBrands");
    assert_eq!(
        brands.path(),
        format!(
            "api/contoso/pos/v1.0/companies({})/carBrands",
            sb.company_id()
        )
    );
    let b = brands
        .create(&CarBrandInput {
            name: "Škoda".into(),
            country: "CZ".into(),
        })
        .await
        .unwrap();
    let listed: Vec<CarBrand> = brands
        .list(Query::new().filter(Field::new("name").eq("Škoda")))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].country, "CZ");
    let got = brands.get(&b.id.unwrap()).await.unwrap();
    assert_eq!(got.name, "Škoda");
    let too_long = brands
        .create(&CarBrandInput {
            name: "N".repeat(21),
            country: String::new(),
        })
        .await;
    assert!(matches!(too_long, Err(Error::InvalidInput(_))));
    // Unknown routes are 404.
    let unknown = client
        .custom_api("nobody", "x", "v1.0")
        .unwrap()
        .companies()
        .list_all(Query::new())
        .await;
    assert!(matches!(unknown, Err(Error::NotFound(_))), "{unknown:?}");
    assert!(client.custom_api("../x", "g", "v1").is_err());
}

#[tokio::test]
async fn webhook_subscriptions_create_renew_delete() {
    let sb = Sandbox::builder()
        .webhook_handshake(false)
        .start()
        .await
        .unwrap();
    let client = sb.client();
    let subs = client.subscriptions();
    let resource = format!("/api/v2.0/companies({})/customers", sb.company_id());
    let state = SecretString::from("s3cret-state");
    let sub = subs
        .subscribe("https://hooks.example.com/bc", &resource, &state)
        .await
        .unwrap();
    assert!(!sub.subscription_id.is_empty());
    assert_eq!(sub.resource, resource);
    let expiry = sub.expiration_date_time.unwrap();
    assert!(expiry > chrono::Utc::now() + chrono::Duration::days(2));
    assert!(sub.needs_renewal(
        expiry - chrono::Duration::hours(1),
        chrono::Duration::hours(12)
    ));
    let listed = subs.list_all(Query::new()).await.unwrap();
    assert_eq!(listed.len(), 1);
    let renewed = subs.renew(&sub).await.unwrap();
    assert_ne!(renewed.etag, sub.etag);
    assert!(renewed.expiration_date_time.unwrap() >= expiry);
    // Deleting needs the current ETag.
    let stale = subs.unsubscribe(&sub).await;
    assert!(matches!(stale, Err(Error::Conflict(_))), "{stale:?}");
    subs.unsubscribe(&renewed).await.unwrap();
    assert!(subs.list_all(Query::new()).await.unwrap().is_empty());
}

#[tokio::test]
async fn rate_limit_answers_429_and_client_retries() {
    let sb = Sandbox::builder()
        .rate_limit(3, Duration::from_millis(400))
        .start()
        .await
        .unwrap();
    let strict = sb
        .client_builder()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let mut limited = None;
    for _ in 0..6 {
        if let Err(e) = strict.companies().list_all(Query::new()).await {
            limited = Some(e);
            break;
        }
    }
    assert!(
        matches!(limited, Some(Error::RateLimited { .. })),
        "{limited:?}"
    );
    assert!(sb.stats().throttled >= 1);

    // With the default retry policy the client waits and gets through.
    tokio::time::sleep(Duration::from_millis(450)).await;
    let patient = sb.client();
    for _ in 0..5 {
        patient.companies().list_all(Query::new()).await.unwrap();
    }
    assert!(patient.stats().throttled >= 1);
}

#[tokio::test]
async fn lost_response_on_create_is_detected_by_external_document_number() {
    let sb = Sandbox::start().await.unwrap();
    let client = sb
        .client_builder()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let orders = client.company(sb.company_id()).sales_orders();
    orders.list_all(Query::new()).await.unwrap(); // fetch the token first
    sb.faults().set(FaultConfig {
        lost_response_per_mille: 1000,
        ..FaultConfig::none()
    });
    let err = orders
        .create(
            &SalesOrderInput::new()
                .customer_number("10000")
                .external_document_number("LS-LOST-1"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                may_have_reached_server: true,
                ..
            }
        ),
        "{err:?}"
    );
    sb.faults().clear();
    let existing = orders
        .lookup("externalDocumentNumber", ["LS-LOST-1"], 10, Query::new())
        .await
        .unwrap();
    assert_eq!(
        existing.len(),
        1,
        "committed although the response was lost: do not create again"
    );
}

#[tokio::test]
async fn patch_without_if_match_and_non_json_gateway_errors() {
    let sb = Sandbox::start().await.unwrap();
    let client = sb.client();
    let cust = client
        .company(sb.company_id())
        .customers()
        .lookup("number", ["10000"], 1, Query::new())
        .await
        .unwrap()
        .remove(0);
    let path = format!(
        "api/v2.0/companies({})/customers({})",
        sb.company_id(),
        cust.id.unwrap()
    );
    let err = Error::from(
        client
            .http()
            .patch(&path)
            .json(&serde_json::json!({"city": "X"}))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(err.code().unwrap().as_str(), "BadRequest_InvalidToken");
    assert!(err.api_error().unwrap().correlation_id.is_some());
    // Unknown property in a body is refused by the server.
    let err = Error::from(
        client
            .http()
            .patch(&path)
            .header("If-Match", "*")
            .json(&serde_json::json!({"nope": 1}))
            .send()
            .await
            .unwrap_err(),
    );
    assert!(err.to_string().contains("does not exist"), "{err}");
    // `{set}?company={id}` form.
    let q = format!("company={}", sb.company_id());
    let page: serde_json::Value = client
        .http()
        .get("api/v2.0/items")
        .raw_query(&q)
        .send()
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(page["value"].as_array().unwrap().len(), 9);
    // A filter with `or` across fields is refused by the server too.
    let err = Error::from(
        client
            .http()
            .get("api/v2.0/items")
            .raw_query(&format!(
                "{q}&$filter=number%20eq%20'1'%20or%20gtin%20eq%20'2'"
            ))
            .send()
            .await
            .unwrap_err(),
    );
    assert!(err.to_string().contains("OR"), "{err}");
}

#[tokio::test]
async fn webhook_handshake_and_notifications_end_to_end() {
    use business_central::webhook::{ChangeType, WebhookHandler, WebhookReply};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};

    // The receiver answers through the crate's WebhookHandler.
    let receiver = MockServer::start().await;
    let handler = WebhookHandler::new(SecretString::from("s3cret"));
    let h = handler.clone();
    Mock::given(wiremock::matchers::path("/hooks/bc"))
        .respond_with(move |r: &Request| {
            let reply = h.handle(r.url.query(), &r.body);
            ResponseTemplate::new(reply.status()).set_body_string(reply.body().to_owned())
        })
        .mount(&receiver)
        .await;
    let sb = Sandbox::start().await.unwrap();
    let client = sb.client();
    let company = client.company(sb.company_id());
    let resource = format!("/api/v2.0/companies({})/customers", sb.company_id());
    let url = format!("{}/hooks/bc", receiver.uri());
    let sub = client
        .subscriptions()
        .subscribe(&url, &resource, &SecretString::from("s3cret"))
        .await
        .unwrap();

    // A wrong endpoint fails the handshake.
    let bad = client
        .subscriptions()
        .subscribe(
            &format!("{}/nowhere", receiver.uri()),
            &resource,
            &SecretString::from("x"),
        )
        .await;
    assert!(bad.is_err());

    let created = company
        .customers()
        .create(&CustomerInput::new().display_name("Hooked"))
        .await
        .unwrap();
    company
        .customers()
        .update_entity(&created, &CustomerInput::new().city("Basel"))
        .await
        .unwrap();
    company
        .items()
        .lookup("number", ["1000"], 1, Query::new())
        .await
        .unwrap();
    assert_eq!(sb.deliver_notifications().await, 2);
    assert_eq!(sb.deliver_notifications().await, 0, "nothing pending");

    let posts: Vec<_> = receiver
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.query().is_none())
        .collect();
    assert_eq!(posts.len(), 1, "one POST per URL");
    let WebhookReply::Notifications(n) = handler.handle(None, &posts[0].body) else {
        panic!()
    };
    assert_eq!(n[0].change_type, ChangeType::Created);
    assert_eq!(n[1].change_type, ChangeType::Updated);
    assert_eq!(n[0].entity_id(), created.id.map(|i| i.uuid()));
    assert_eq!(n[0].subscription_id, sub.subscription_id);

    // More than 1,000 changes become one `collection` notification.
    for i in 0..1001 {
        sb.insert::<Customer>(&CustomerInput::new().display_name(format!("Bulk {i}")))
            .unwrap();
    }
    assert_eq!(sb.deliver_notifications().await, 1);
    let last = receiver.received_requests().await.unwrap().pop().unwrap();
    let WebhookReply::Notifications(n) = handler.handle(None, &last.body) else {
        panic!()
    };
    assert_eq!(n[0].change_type, ChangeType::Collection);
    assert!(n[0].resource.contains("$filter=lastDateTimeModified"));
}

#[tokio::test]
async fn at_most_five_requests_in_flight_by_default() {
    let sb = Sandbox::builder()
        .processing_time(Duration::from_millis(40))
        .start()
        .await
        .unwrap();
    let client = sb.client();
    let items = client.company(sb.company_id()).items();
    items.list_all(Query::new()).await.unwrap();
    let reads = (0..20).map(|_| items.list_all(Query::new()));
    assert!(
        futures::future::join_all(reads)
            .await
            .iter()
            .all(Result::is_ok)
    );
    assert_eq!(sb.max_concurrent_requests(), 5);

    let wider = sb.client_builder().max_in_flight(8).build().unwrap();
    let items = wider.company(sb.company_id()).items();
    let reads = (0..24).map(|_| items.list_all(Query::new()));
    assert!(
        futures::future::join_all(reads)
            .await
            .iter()
            .all(Result::is_ok)
    );
    assert_eq!(sb.max_concurrent_requests(), 8);
}
