//! Exact request shapes (paths, query strings, headers, bodies) checked with wiremock, on the
//! legacy 2.0/2.1 paths unless a test says otherwise (every call in both versions, checked against
//! the official specs, is in `dated_version.rs`).

use chrono::{TimeZone, Utc};
use futures::StreamExt;
use lightspeed_x::*;
use rust_decimal_macros::dec;
use serde_json::json;
use wiremock::matchers::{body_json, body_string, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// A legacy (2.0/2.1) client.
async fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(server.uri())
        .api_version(ApiVersion::legacy())
        .personal_token("tok".into())
        .retry(RetryPolicy {
            max_attempts: 3,
            initial_backoff: std::time::Duration::from_millis(5),
            ..RetryPolicy::default()
        })
        .unlimited()
        .build()
        .await
        .unwrap()
}

fn query_of(req: &Request) -> Vec<(String, String)> {
    req.url.query_pairs().into_owned().collect()
}

#[tokio::test]
async fn oauth_code_exchange_form_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/1.0/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string(
            "code=the-code&client_id=cid&client_secret=csecret&grant_type=authorization_code&redirect_uri=https%3A%2F%2Fapp.example%2Fcb",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at1", "token_type": "Bearer", "expires": 4102444800i64, "expires_in": 604800,
            "refresh_token": "rt1", "domain_prefix": "demo", "scope": ""
        })))
        .expect(1)
        .mount(&server)
        .await;
    let app = OAuthApp::new("cid", "csecret".into(), "https://app.example/cb")
        .with_token_base_url(server.uri());
    let cb = app
        .parse_callback(
            "code=the-code&domain_prefix=demo&state=state-123456",
            "state-123456",
        )
        .unwrap();
    let t = app.exchange_code(&cb).await.unwrap();
    assert_eq!(t.domain_prefix, "demo");
    assert_eq!(
        t.expires_at,
        Some(Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap())
    );
    let req = &server.received_requests().await.unwrap()[0];
    assert!(req.headers.get("authorization").is_none());
    assert!(
        req.url.query().is_none(),
        "parameters go in the body, never the query"
    );
}

#[tokio::test]
async fn oauth_refresh_form_body_and_invalid_grant() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/1.0/token"))
        .and(body_string("refresh_token=rt-old&client_id=cid&client_secret=csecret&grant_type=refresh_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at2", "token_type": "Bearer", "expires_in": 60, "refresh_token": "rt-new"
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/1.0/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .mount(&server)
        .await;
    let app = OAuthApp::new("cid", "csecret".into(), "https://app.example/cb")
        .with_token_base_url(server.uri());
    let t = app.refresh("demo", &"rt-old".into()).await.unwrap();
    use pos_http::ExposeSecret;
    assert_eq!(t.refresh_token.expose_secret(), "rt-new");
    assert_eq!(t.domain_prefix, "demo");
    let err = app.refresh("demo", &"rt-old".into()).await.unwrap_err();
    assert!(err.needs_reauthorization());
    assert!(err.to_string().contains("invalid_grant"));
}

#[tokio::test]
async fn product_update_goes_to_2_1_with_common_and_details() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/2.1/products/p-1"))
        .and(header("authorization", "Bearer tok"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "common": {"name": "Shirt", "tag_ids": []},
            "details": {"price_including_tax": 49.95, "inventory": [
                {"outlet_id": "o-1", "current_amount": 21},
                {"outlet_id": "o-2", "current_amount": 0, "reorder_point": -1}
            ]}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server).await;
    let mut clear = InventoryLevel::set("o-2", dec!(0));
    clear.reorder_point = Some(dec!(-1));
    c.products()
        .update(
            &ProductId::new("p-1"),
            &ProductUpdate {
                common: Some(ProductCommon {
                    name: Some("Shirt".into()),
                    tag_ids: Some(vec![]),
                    ..Default::default()
                }),
                details: Some(ProductDetails {
                    price_including_tax: Some(dec!(49.95)),
                    inventory: vec![InventoryLevel::set("o-1", dec!(21)), clear],
                    ..Default::default()
                }),
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn product_create_body_and_dated_version_paths() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/2026-07/products"))
        .and(body_json(
            json!({"name": "Mug", "sku": "mug-1", "price_excluding_tax": 10.5,
            "inventory": [{"outlet_id": "o-1", "current_amount": 3}]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": ["new-id"]})))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/2026-07/products/new-id"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let c = Client::builder()
        .base_url(format!("{}/api", server.uri()))
        .api_version(ApiVersion::V2026_07)
        .personal_token("tok".into())
        .unlimited()
        .build()
        .await
        .unwrap();
    let ids = c
        .products()
        .create(&ProductCreate {
            name: "Mug".into(),
            sku: Some("mug-1".into()),
            price_excluding_tax: Some(dec!(10.50)),
            inventory: vec![InventoryLevel::set("o-1", dec!(3))],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ids, vec![ProductId::new("new-id")]);
    c.inventory()
        .set_level(&ids[0], &OutletId::new("o-1"), dec!(5))
        .await
        .unwrap();
}

#[tokio::test]
async fn search_query_strings() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .mount(&server)
        .await;
    let c = client(&server).await;
    let from = Utc.with_ymd_and_hms(2026, 1, 14, 11, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2026, 1, 15, 11, 0, 0).unwrap();
    c.sales()
        .search()
        .outlet(&OutletId::new("o-1"))
        .date_from(from)
        .date_to(to)
        .state(SaleState::Closed)
        .page_size(500)
        .all()
        .await
        .unwrap();
    c.products().find_by_sku("  ABC-123 ").await.unwrap();
    c.customers().find_by_email("Jo@Example.com").await.unwrap();
    let reqs = server.received_requests().await.unwrap();
    let q: Vec<Vec<(String, String)>> = reqs.iter().map(query_of).collect();
    let pairs = |v: &[(&str, &str)]| {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        q[0],
        pairs(&[
            ("type", "sales"),
            ("outlet_id", "o-1"),
            ("date_from", "2026-01-14T11:00:00Z"),
            ("date_to", "2026-01-15T11:00:00Z"),
            ("state", "closed"),
            ("page_size", "500"),
            ("offset", "0"),
        ])
    );
    assert_eq!(
        q[1],
        pairs(&[
            ("type", "products"),
            ("sku", "abc-123"),
            ("page_size", "1000"),
            ("offset", "0")
        ])
    );
    assert_eq!(
        q[2],
        pairs(&[
            ("type", "customers"),
            ("email", "Jo@Example.com"),
            ("page_size", "1000"),
            ("offset", "0")
        ])
    );
}

#[tokio::test]
async fn search_pages_by_offset() {
    let server = MockServer::start().await;
    for (offset, ids) in [("0", vec!["a", "b"]), ("2", vec!["c"])] {
        let data: Vec<_> = ids
            .iter()
            .map(|id| json!({"id": id, "total_price": "1.00"}))
            .collect();
        Mock::given(method("GET"))
            .and(path("/api/2.0/search"))
            .and(query_param("offset", offset))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": data})))
            .expect(1)
            .mount(&server)
            .await;
    }
    let c = client(&server).await;
    let all = c.sales().search().page_size(2).all().await.unwrap();
    let ids: Vec<_> = all.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
}

#[tokio::test]
async fn list_query_and_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/customers"))
        .and(query_param("after", "100"))
        .and(query_param("page_size", "50"))
        .and(query_param("deleted", "true"))
        .and(header("accept", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server).await;
    let items = c
        .customers()
        .list()
        .after(100)
        .page_size(50)
        .deleted(true)
        .all()
        .await
        .unwrap();
    assert!(items.is_empty());
    let req = &server.received_requests().await.unwrap()[0];
    let ua = req.headers.get("user-agent").unwrap().to_str().unwrap();
    assert!(ua.starts_with("lightspeed-x-rust/"), "{ua}");
}

#[tokio::test]
async fn a_cursor_that_does_not_advance_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/sales"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "s1", "version": 10}], "version": {"min": 10, "max": 10}
        })))
        .mount(&server)
        .await;
    let c = client(&server).await;
    let mut s = c.sales().list().stream();
    assert_eq!(s.next().await.unwrap().unwrap().id.as_str(), "s1");
    assert_eq!(s.cursor(), Version(10));
    match s.next().await {
        Some(Err(Error::CursorNotAdvancing { after, .. })) => assert_eq!(after, Version(10)),
        other => panic!("{other:?}"),
    }
    assert!(s.next().await.is_none(), "the stream ends after the error");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn malformed_page_is_a_decode_error_with_the_path() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/products"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "p1", "version": 1}, {"id": "p2", "price_including_tax": "twelve", "version": 2}]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/outlets"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"data\": [ {\"id\": "))
        .mount(&server)
        .await;
    let c = client(&server).await;
    match c.products().list().all().await {
        Err(Error::Decode { path, message }) => {
            assert_eq!(path, "data[1].price_including_tax");
            assert!(message.contains("twelve"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c.outlets().list().all().await,
        Err(Error::Decode { .. })
    ));
}

#[tokio::test]
async fn honours_http_date_retry_after() {
    let server = MockServer::start().await;
    let at = std::time::SystemTime::now() + std::time::Duration::from_secs(1);
    Mock::given(method("GET"))
        .and(path("/api/2.0/taxes"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", httpdate::fmt_http_date(at).as_str())
                .set_body_json(
                    json!({"error": "Too Many Requests", "message": "Rate limiting enforced"}),
                ),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/taxes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .mount(&server)
        .await;
    let c = client(&server).await;
    c.taxes().list().all().await.unwrap();
    assert_eq!(c.stats().throttled, 1);
    assert_eq!(c.stats().retries, 1);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn api_error_bodies_are_mapped() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/2.0/customers"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "first_name cannot be empty"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/2.0/webhooks"))
        .and(body_json(
            json!({"url": "https://hooks.example/x", "active": true, "type": "sale.update"}),
        ))
        .respond_with(
            ResponseTemplate::new(409).set_body_json(
                json!({"error": "A webhook with this type and URL already exists."}),
            ),
        )
        .mount(&server)
        .await;
    let c = client(&server).await;
    match c
        .customers()
        .create(&CustomerInput {
            last_name: Some("X".into()),
            ..Default::default()
        })
        .await
    {
        Err(Error::Api {
            status: 400, error, ..
        }) => assert_eq!(error, "first_name cannot be empty"),
        other => panic!("{other:?}"),
    }
    let err = c
        .webhooks()
        .create("https://hooks.example/x", WebhookType::SaleUpdate)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    assert!(matches!(
        c.webhooks()
            .create("not a url", WebhookType::SaleUpdate)
            .await,
        Err(Error::InvalidInput(_))
    ));
}

#[tokio::test]
async fn cursor_from_item_versions_when_the_envelope_has_none() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/inventory"))
        .and(query_param("after", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": "i1", "product_id": "p", "outlet_id": "o", "inventory_level": 3, "version": 1639940},
            {"id": "i2", "product_id": "p", "outlet_id": "o2", "inventory_level": "4.5", "version": 3426971}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/inventory"))
        .and(query_param("after", "3426971"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server).await;
    let mut s = c.inventory().list().stream();
    let mut total = rust_decimal::Decimal::ZERO;
    while let Some(i) = s.next().await {
        total += i.unwrap().inventory_level;
    }
    assert_eq!(total, dec!(7.5));
    assert_eq!(s.cursor(), Version(3426971));
    assert!(s.is_done());
}

#[tokio::test]
async fn a_malformed_2026_07_inventory_page_names_the_record() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/2026-07/inventory"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "i1", "product_id": "p", "outlet_id": "o", "current_inventory_level": 3, "version": 1},
            {"id": "i2", "product_id": "p", "outlet_id": "o", "current_inventory_level": "lots", "version": 2}
        ])))
        .mount(&server)
        .await;
    let c = Client::builder()
        .base_url(server.uri())
        .personal_token("tok".into())
        .unlimited()
        .build()
        .await
        .unwrap();
    match c.inventory().list().all().await {
        Err(Error::Decode { path, message }) => {
            assert_eq!(path, "[1].current_inventory_level");
            assert!(message.contains("lots"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}
