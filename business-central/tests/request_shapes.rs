//! Exact request shapes on the wire (wiremock): query strings with quotes and non-ASCII,
//! `Prefer`, `If-Match`, batch bodies and headers, deep-insert bodies, the token request, and
//! how responses and errors are read.

use business_central::batch::Batch;
use business_central::models::*;
use business_central::query::{Expand, Field, Query};
use business_central::{Client, ClientCredentials, CompanyId, ETag, Error, SecretString};
use futures::TryStreamExt;
use rust_decimal_macros::dec;
use serde_json::json;
use wiremock::matchers::{body_json, body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const COMPANY: &str = "9ee48135-93e1-ef11-9344-6045bde9ca09";
const CUSTOMER: &str = "b37406e8-eaf1-ef11-9b20-d99fd2b71a0f";

fn company() -> CompanyId {
    COMPANY.parse().unwrap()
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(format!("{}/v2.0/tenant/production", server.uri()))
        .bearer_token(SecretString::from("test-token"))
        .page_size(250)
        .build()
        .unwrap()
}

fn base_path(rest: &str) -> String {
    format!("/v2.0/tenant/production/api/v2.0/companies({COMPANY})/{rest}")
}

#[tokio::test]
async fn filter_with_quotes_and_non_ascii_is_encoded_once_with_prefer() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(base_path("customers")))
        .and(header("Prefer", "odata.maxpagesize=250"))
        .and(header("Authorization", "Bearer test-token"))
        .and(header("Accept", "application/json"))
        .and(|r: &Request| {
            r.url.query()
                == Some(
                    "$filter=displayName%20eq%20%27Siobh%C3%A1n%20O%27%27Brien%20%26%20Co%27%20or%20displayName%20eq%20%27M%C3%BCller%2B%23%27\
                     &$select=id,number,displayName",
                )
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.context": "x",
            "value": [{"@odata.etag": "W/\"JzE4OzE7MDA7Jw==\"", "id": CUSTOMER, "number": "C1", "displayName": "Siobhán O'Brien & Co"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let f = Field::new("displayName")
        .eq("Siobhán O'Brien & Co")
        .or(Field::new("displayName").eq("Müller+#"))
        .unwrap();
    let got: Vec<Customer> = client(&server)
        .company(company())
        .customers()
        .list(
            Query::new()
                .filter(f)
                .select(["id", "number", "displayName"]),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(got[0].display_name, "Siobhán O'Brien & Co");
    assert_eq!(
        got[0].etag.as_ref().unwrap().as_str(),
        "W/\"JzE4OzE7MDA7Jw==\""
    );
}

#[tokio::test]
async fn next_link_followed_verbatim_and_repeat_stops() {
    let server = MockServer::start().await;
    let next = format!(
        "{}{}?$skiptoken='C2'&aid=FIN",
        server.uri(),
        base_path("customers")
    );
    Mock::given(method("GET"))
        .and(path(base_path("customers")))
        .and(|r: &Request| r.url.query().is_none())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [{"id": CUSTOMER, "number": "C1"}], "@odata.nextLink": next
        })))
        .expect(1)
        .mount(&server)
        .await;
    // The second page points at itself: the stream must stop with an error, not loop.
    Mock::given(method("GET"))
        .and(path(base_path("customers")))
        .and(|r: &Request| r.url.query() == Some("$skiptoken=%27C2%27&aid=FIN"))
        .and(header("Prefer", "odata.maxpagesize=250"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [{"number": "C2"}], "@odata.nextLink": next
        })))
        .expect(1)
        .mount(&server)
        .await;
    let mut numbers = Vec::new();
    let mut stream = client(&server)
        .company(company())
        .customers()
        .list(Query::new());
    let mut last_err = None;
    while let Some(item) = futures::StreamExt::next(&mut stream).await {
        match item {
            Ok(c) => numbers.push(c.number),
            Err(e) => last_err = Some(e),
        }
    }
    assert_eq!(numbers, ["C1", "C2"]);
    assert!(
        matches!(last_err, Some(Error::RepeatedNextLink(_))),
        "{last_err:?}"
    );
}

#[tokio::test]
async fn read_replica_and_language_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(base_path(&format!("customers({CUSTOMER})"))))
        .and(header("Data-Access-Intent", "ReadOnly"))
        .and(header("Accept-Language", "de-CH"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": CUSTOMER, "number": "10000"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(format!("{}/v2.0/tenant/production", server.uri()))
        .bearer_token(SecretString::from("t"))
        .read_replica(true)
        .accept_language("de-CH")
        .build()
        .unwrap();
    let c = client
        .company(company())
        .customers()
        .get(&CUSTOMER.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(c.number, "10000");
}

#[tokio::test]
async fn update_sends_if_match_and_only_set_fields() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(base_path(&format!("customers({CUSTOMER})"))))
        .and(header("If-Match", "W/\"JzE4OzE7MDA7Jw==\""))
        .and(header("Content-Type", "application/json"))
        .and(body_json(json!({"email": "zoë@example.com", "creditLimit": 1500.5, "blocked": "_x0020_"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.etag": "W/\"new\"", "id": CUSTOMER, "email": "zoë@example.com", "creditLimit": 1500.5, "blocked": "_x0020_"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server)
        .company(company())
        .customers()
        .update(
            &CUSTOMER.parse().unwrap(),
            &ETag::new("W/\"JzE4OzE7MDA7Jw==\""),
            &CustomerInput::new()
                .email("zoë@example.com")
                .credit_limit(dec!(1500.5))
                .blocked(CustomerBlocked::Blank),
        )
        .await
        .unwrap();
    assert_eq!(c.credit_limit, dec!(1500.5));
    assert_eq!(c.etag, Some(ETag::new("W/\"new\"")));
}

#[tokio::test]
async fn conflicts_409_and_412_are_one_error() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({"error": {"code": "Request_EntityChanged",
            "message": "Another user has already changed the record.  CorrelationId:  11111111-2222-3333-4444-555555555555."}})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(412).set_body_string(""))
        .mount(&server)
        .await;
    let set = client(&server).company(company()).customers();
    let id = CUSTOMER.parse().unwrap();
    let e1 = set
        .update(&id, &ETag::new("W/\"a\""), &CustomerInput::new().city("x"))
        .await
        .unwrap_err();
    let e2 = set
        .update(&id, &ETag::new("W/\"a\""), &CustomerInput::new().city("x"))
        .await
        .unwrap_err();
    let Error::Conflict(api) = e1 else {
        panic!("{e1:?}")
    };
    assert_eq!(
        api.correlation_id.as_deref(),
        Some("11111111-2222-3333-4444-555555555555")
    );
    assert!(matches!(e2, Error::Conflict(_)));
}

#[tokio::test]
async fn deep_insert_body_and_expand() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(base_path("salesOrders")))
        .and(|r: &Request| r.url.query() == Some("$expand=salesOrderLines"))
        .and(body_json(json!({
            "customerNumber": "10000",
            "externalDocumentNumber": "LS-1",
            "orderDate": "2026-11-23",
            "salesOrderLines": [
                {"lineType": "Item", "lineObjectNumber": "1000", "quantity": 2, "unitPrice": 89.95},
                {"lineType": "Comment", "description": "Größe 42"}
            ]
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": "848028e0-0c2c-f011-9a4a-7ced8d0fb545", "number": "S-ORD1001", "orderDate": "2026-11-23",
            "requestedDeliveryDate": "0001-01-01", "billToCustomerId": "00000000-0000-0000-0000-000000000000",
            "status": "Draft", "salesOrderLines": [{"sequence": 10000, "quantity": 2, "shippedQuantity": 0}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let order = client(&server)
        .company(company())
        .sales_orders()
        .create_with_lines(
            &SalesOrderInput::new()
                .customer_number("10000")
                .external_document_number("LS-1")
                .order_date(chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap())
                .line(
                    SalesOrderLineInput::new()
                        .line_type(LineType::Item)
                        .line_object_number("1000")
                        .quantity(dec!(2))
                        .unit_price(dec!(89.95)),
                )
                .line(
                    SalesOrderLineInput::new()
                        .line_type(LineType::Comment)
                        .description("Größe 42"),
                ),
        )
        .await
        .unwrap();
    assert_eq!(order.requested_delivery_date, None, "0001-01-01 is no date");
    assert_eq!(order.bill_to_customer_id, None, "empty GUID is none");
    assert_eq!(
        order.sales_order_lines.unwrap()[0].outstanding_quantity(),
        dec!(2)
    );
}

#[tokio::test]
async fn batch_body_headers_and_results() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2.0/tenant/production/api/v2.0/$batch"))
        .and(header("Isolation", "snapshot"))
        .and(header("Prefer", "odata.continue-on-error"))
        .and(header("Accept", "application/json"))
        .and(body_json(json!({"requests": [
            {"id": "c1", "method": "POST", "url": format!("companies({COMPANY})/customers"),
             "headers": {"Content-Type": "application/json"}, "body": {"displayName": "O'Neil"}},
            {"id": "d1", "method": "DELETE", "url": format!("companies({COMPANY})/customers({CUSTOMER})"),
             "headers": {"If-Match": "W/\"x\""}},
            {"id": "g1", "method": "GET", "url": format!("companies({COMPANY})/customers({CUSTOMER})?$select=number")}
        ]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"responses": [
            {"id": "g1", "status": 200, "headers": {}, "body": {"number": "10000"}},
            {"id": "c1", "status": 201, "headers": {}, "body": {"displayName": "O'Neil", "number": "C1"}},
            {"id": "d1", "status": 412, "headers": {}, "body": {"error": {"code": "Request_EntityChanged", "message": "changed"}}}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let customers = client.company(company()).customers();
    let mut batch = Batch::new().snapshot(true).continue_on_error(true);
    batch
        .create(
            "c1",
            &customers,
            &CustomerInput::new().display_name("O'Neil"),
        )
        .unwrap();
    batch
        .delete(
            "d1",
            &customers,
            &CUSTOMER.parse().unwrap(),
            Some(&ETag::new("W/\"x\"")),
        )
        .unwrap();
    batch
        .get(
            "g1",
            &customers,
            &CUSTOMER.parse().unwrap(),
            &Query::new().select(["number"]),
        )
        .unwrap();
    let mut resp = client.batch(&batch).await.unwrap();
    let c1: Customer = resp.take("c1").unwrap().decode("c1").unwrap();
    assert_eq!(c1.number, "C1");
    assert!(matches!(
        resp.take("d1").unwrap().into_result("d1"),
        Err(Error::Conflict(_))
    ));
    let g1: Customer = resp.take("g1").unwrap().decode("g1").unwrap();
    assert_eq!(g1.number, "10000");
}

#[tokio::test]
async fn token_request_form_and_caching() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/my-tenant/oauth2/v2.0/token"))
        .and(header("Content-Type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("client_id=app-id"))
        .and(body_string_contains("client_secret=p%40ss%26word"))
        .and(body_string_contains(
            "scope=https%3A%2F%2Fapi.businesscentral.dynamics.com%2F.default",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ0eXAi.token"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2.0/my-tenant/production/api/v2.0/companies"))
        .and(header("Authorization", "Bearer eyJ0eXAi.token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .expect(2)
        .mount(&server)
        .await;
    let creds = ClientCredentials::new("my-tenant", "app-id", SecretString::from("p@ss&word"))
        .token_url(format!("{}/my-tenant/oauth2/v2.0/token", server.uri()));
    assert!(!format!("{creds:?}").contains("p@ss"));
    let client = Client::builder()
        .base_url(format!("{}/v2.0/my-tenant/production", server.uri()))
        .client_credentials(creds)
        .build()
        .unwrap();
    client.companies().list_all(Query::new()).await.unwrap();
    client.companies().list_all(Query::new()).await.unwrap();
}

#[tokio::test]
async fn gateway_html_error_and_bound_action() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(base_path(&format!(
            "salesInvoices({CUSTOMER})/Microsoft.NAV.post"
        ))))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(404).set_body_string("<html><body>Not Found</body></html>"),
        )
        .mount(&server)
        .await;
    let client = client(&server);
    client
        .company(company())
        .sales_invoices()
        .post(CUSTOMER.parse().unwrap())
        .await
        .unwrap();
    let err = client
        .company(company())
        .items()
        .get_with(
            &CUSTOMER.parse().unwrap(),
            Query::new().expand(Expand::new("itemVariants")),
        )
        .await
        .unwrap_err();
    let Error::NotFound(api) = err else {
        panic!("{err:?}")
    };
    assert_eq!(api.code.as_str(), "Unknown");
    assert!(api.message.contains("Not Found"));
}
