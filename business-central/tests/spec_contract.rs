//! The response and request oracles: every sandbox route the client uses is driven over HTTP and
//! each answer (status and body) is checked here, independently of the sandbox, against Business
//! Central's real `$metadata` (properties exist with their Edm types, enum members,
//! `@odata.etag`, nothing extra) or the documented error shape `{"error": {"code", "message"}}`.
//! The sandbox's own runtime checks ([`Sandbox::spec_violations`]) must stay empty too. Requests
//! that `$metadata` refuses get Business Central's own 4xx. Finally the checkers are shown to
//! fail on deliberately wrong fields, types and statuses.
//!
//! Needs the official files (`../shared/reference` or `POS_SYNC_REFERENCE_DIR`); fails naming
//! the path without them, unless `POS_SYNC_SKIP_SPEC_TESTS=1`.

use std::time::Duration;

use business_central::sandbox::Sandbox;
use pos_http::{HttpClient, Method, RetryPolicy};
use serde_json::{Value, json};
use spec_oracle::metadata::{Direction, Metadata, ViolationKind, check_error, require_metadata};

/// What a response must be.
#[derive(Debug, Clone)]
enum Expect {
    /// 200 with a collection of this entity type.
    List(&'static str),
    /// This status with one entity of this type.
    Entity(u16, &'static str),
    /// 204 without a body.
    NoContent,
    /// This status with Business Central's error body (and, when given, this code).
    Error(u16, Option<&'static str>),
}

struct Contract {
    md: &'static Metadata,
    http: HttpClient,
    checked: usize,
    statuses: std::collections::BTreeSet<u16>,
    failures: Vec<String>,
}

impl Contract {
    fn new(md: &'static Metadata, sb: &Sandbox) -> Self {
        let http = HttpClient::builder(format!("{}/api/v2.0/", sb.base_url()))
            .retry(RetryPolicy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client");
        Self {
            md,
            http,
            checked: 0,
            statuses: Default::default(),
            failures: Vec::new(),
        }
    }

    /// Sends a request and checks the answer; returns the body.
    async fn call(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
        expect: Expect,
    ) -> Value {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let query = query.replace(' ', "%20").replace('\'', "%27");
        let query = query.as_str();
        let mut req = self.http.request(method.clone(), path).raw_query(query);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        if let Some(b) = &body {
            req = req.json(b);
        }
        let resp = req.send_any_status().await.expect("sandbox answers");
        let status = resp.status.as_u16();
        let value: Value = if resp.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&resp.body).unwrap_or(Value::String(resp.text()))
        };
        let label = format!(
            "{method} {path}{}{query}",
            if query.is_empty() { "" } else { "?" }
        );
        self.check(&label, status, &value, &expect);
        value
    }

    fn check(&mut self, label: &str, status: u16, value: &Value, expect: &Expect) {
        self.checked += 1;
        self.statuses.insert(status);
        let found = judge(self.md, status, value, expect);
        self.failures
            .extend(found.into_iter().map(|f| format!("{label}: {f}")));
    }
}

/// The violations of one answer: status first, then the body.
fn judge(md: &Metadata, status: u16, value: &Value, expect: &Expect) -> Vec<String> {
    let mut out = Vec::new();
    let want = match expect {
        Expect::List(_) => 200,
        Expect::Entity(s, _) | Expect::Error(s, _) => *s,
        Expect::NoContent => 204,
    };
    if status != want {
        out.push(format!("status {status}, expected {want}: {value}"));
        return out;
    }
    let found = match expect {
        Expect::List(ty) => md.check_collection(ty, value),
        Expect::Entity(_, ty) => md.check_entity(ty, value, Direction::Response),
        Expect::NoContent => {
            if !value.is_null() {
                out.push(format!("204 with a body: {value}"));
            }
            Vec::new()
        }
        Expect::Error(_, code) => {
            if let Some(code) = code
                && value["error"]["code"] != *code
            {
                out.push(format!(
                    "error code {}, expected {code}",
                    value["error"]["code"]
                ));
            }
            check_error(value)
        }
    };
    out.extend(found.iter().map(ToString::to_string));
    out
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

fn etag(v: &Value) -> String {
    v["@odata.etag"].as_str().expect("an etag").to_owned()
}

const SETS: &[(&str, &str)] = &[
    ("customers", "customer"),
    ("contacts", "contact"),
    ("items", "item"),
    ("itemVariants", "itemVariant"),
    ("itemCategories", "itemCategory"),
    ("salesOrders", "salesOrder"),
    ("salesInvoices", "salesInvoice"),
    ("paymentTerms", "paymentTerm"),
    ("paymentMethods", "paymentMethod"),
    ("locations", "location"),
    ("itemLedgerEntries", "itemLedgerEntry"),
    ("generalProductPostingGroups", "generalProductPostingGroup"),
    ("inventoryPostingGroups", "inventoryPostingGroup"),
];

#[tokio::test]
async fn every_sandbox_route_answers_as_metadata_says() {
    let Some(md) = require_metadata() else {
        return;
    };
    let sb = Sandbox::builder()
        .require_auth(false)
        .webhook_handshake(false)
        .start()
        .await
        .unwrap();
    assert!(
        sb.spec_checks_active(),
        "the sandbox checks itself against $metadata"
    );
    let mut c = Contract::new(md, &sb);
    let co = format!("companies({})", sb.company_id());
    use Expect::*;

    // Companies.
    c.call(Method::GET, "companies", &[], None, List("company"))
        .await;
    c.call(Method::GET, &co, &[], None, Entity(200, "company"))
        .await;

    // Every set: a list with records, one entity, an empty list, $select.
    let mut with_rows = 0;
    for (set, ty) in SETS {
        let list = c
            .call(Method::GET, &format!("{co}/{set}"), &[], None, List(ty))
            .await;
        let rows = list["value"].as_array().cloned().unwrap_or_default();
        with_rows += usize::from(!rows.is_empty());
        if rows.is_empty() {
            println!("no demo rows in {set}");
        }
        if let Some(first) = rows.first() {
            let one = id(first);
            c.call(
                Method::GET,
                &format!("{co}/{set}({one})"),
                &[],
                None,
                Entity(200, ty),
            )
            .await;
        }
        c.call(
            Method::GET,
            &format!("{co}/{set}?$filter=id eq 00000000-0000-0000-0000-000000000001"),
            &[],
            None,
            List(ty),
        )
        .await;
        c.call(
            Method::GET,
            &format!("{co}/{set}?$select=id&$top=1"),
            &[],
            None,
            List(ty),
        )
        .await;
    }

    assert!(with_rows >= 10, "{with_rows} sets with demo records");

    // Paging with nextLink, followed to the end.
    let mut page = c
        .call(
            Method::GET,
            &format!("{co}/items"),
            &[("Prefer", "odata.maxpagesize=2")],
            None,
            List("item"),
        )
        .await;
    let mut pages = 1;
    while let Some(next) = page["@odata.nextLink"].as_str().map(str::to_owned) {
        let url = pos_http::Url::parse(&next).expect("absolute next link");
        let resp = c
            .http
            .request_url(Method::GET, url)
            .header("Prefer", "odata.maxpagesize=2")
            .send_any_status()
            .await
            .unwrap();
        page = serde_json::from_slice(&resp.body).unwrap();
        c.check(&next, resp.status.as_u16(), &page, &List("item"));
        pages += 1;
    }
    assert!(pages >= 3, "paged in {pages} pages");

    // Expansions.
    let orders = c
        .call(
            Method::GET,
            &format!("{co}/salesOrders?$expand=salesOrderLines,customer"),
            &[],
            None,
            List("salesOrder"),
        )
        .await;
    let order = orders["value"][0].clone();
    assert!(
        c.failures.is_empty()
            && order["salesOrderLines"].is_array()
            && order["customer"].is_object(),
        "{}",
        c.failures.join("\n")
    );
    c.call(
        Method::GET,
        &format!("{co}/items?$expand=itemVariants,itemCategory,inventoryPostingGroup,generalProductPostingGroup"),
        &[],
        None,
        List("item"),
    )
    .await;
    c.call(
        Method::GET,
        &format!("{co}/customers?$expand=paymentTerm,paymentMethod"),
        &[],
        None,
        List("customer"),
    )
    .await;
    c.call(
        Method::GET,
        &format!("{co}/salesOrders({})/salesOrderLines", id(&order)),
        &[],
        None,
        List("salesOrderLine"),
    )
    .await;
    c.call(
        Method::GET,
        &format!("{co}/salesOrderLines?$filter=documentId eq {}", id(&order)),
        &[],
        None,
        List("salesOrderLine"),
    )
    .await;

    // Create, read, update with If-Match, delete.
    let cust = c
        .call(
            Method::POST,
            &format!("{co}/customers"),
            &[],
            Some(json!({"displayName": "Ulm Falcons", "type": "Company", "email": "a@b.c"})),
            Entity(201, "customer"),
        )
        .await;
    let path = format!("{co}/customers({})", id(&cust));
    let cust = c
        .call(
            Method::PATCH,
            &path,
            &[("If-Match", &etag(&cust))],
            Some(json!({"displayName": "TSG Söflingen", "blocked": "Ship"})),
            Entity(200, "customer"),
        )
        .await;
    c.call(
        Method::PATCH,
        &path,
        &[],
        Some(json!({"displayName": "x"})),
        Error(400, Some("BadRequest_InvalidToken")),
    )
    .await;
    c.call(
        Method::PATCH,
        &path,
        &[("If-Match", "W/\"stale\"")],
        Some(json!({"displayName": "x"})),
        Error(409, Some("Request_EntityChanged")),
    )
    .await;
    c.call(
        Method::DELETE,
        &path,
        &[("If-Match", &etag(&cust))],
        None,
        NoContent,
    )
    .await;
    c.call(
        Method::GET,
        &path,
        &[],
        None,
        Error(404, Some("BadRequest_ResourceNotFound")),
    )
    .await;
    for (set, ty, body) in [
        (
            "items",
            "item",
            json!({"displayName": "Desk", "type": "Inventory", "unitPrice": 10.5}),
        ),
        (
            "contacts",
            "contact",
            json!({"displayName": "Jane", "type": "Person", "email": "j@x.y"}),
        ),
        (
            "itemCategories",
            "itemCategory",
            json!({"code": "NEWCAT", "displayName": "New"}),
        ),
        (
            "paymentTerms",
            "paymentTerm",
            json!({"code": "NEWPT", "displayName": "New"}),
        ),
        (
            "paymentMethods",
            "paymentMethod",
            json!({"code": "NEWPM", "displayName": "New"}),
        ),
        (
            "locations",
            "location",
            json!({"code": "NEWLOC", "displayName": "New"}),
        ),
    ] {
        let row = c
            .call(
                Method::POST,
                &format!("{co}/{set}"),
                &[],
                Some(body),
                Entity(201, ty),
            )
            .await;
        let path = format!("{co}/{set}({})", id(&row));
        let row = c
            .call(
                Method::PATCH,
                &path,
                &[("If-Match", &etag(&row))],
                Some(json!({"displayName": "Renamed"})),
                Entity(200, ty),
            )
            .await;
        c.call(
            Method::DELETE,
            &path,
            &[("If-Match", &etag(&row))],
            None,
            NoContent,
        )
        .await;
    }
    let item = c
        .call(
            Method::GET,
            &format!("{co}/items?$filter=number eq '1000'"),
            &[],
            None,
            List("item"),
        )
        .await;
    let item_id = id(&item["value"][0]);
    let variant = c
        .call(
            Method::POST,
            &format!("{co}/itemVariants"),
            &[],
            Some(json!({"itemId": item_id, "code": "XXL", "description": "Extra large"})),
            Entity(201, "itemVariant"),
        )
        .await;
    c.call(
        Method::DELETE,
        &format!("{co}/itemVariants({})", id(&variant)),
        &[("If-Match", &etag(&variant))],
        None,
        NoContent,
    )
    .await;

    // Deep insert of orders and invoices with lines; lines added, updated, deleted; actions.
    let lines = json!([
        {"lineType": "Item", "lineObjectNumber": "1000", "quantity": 2},
        {"lineType": "Item", "lineObjectNumber": "1001", "quantity": 1, "unitPrice": 12.5},
        {"lineType": "Comment", "description": "Gift"}
    ]);
    let so = c
        .call(
            Method::POST,
            &format!("{co}/salesOrders?$expand=salesOrderLines"),
            &[],
            Some(json!({"customerNumber": "10000", "externalDocumentNumber": "LS-1", "salesOrderLines": lines})),
            Entity(201, "salesOrder"),
        )
        .await;
    assert_eq!(so["salesOrderLines"].as_array().map(Vec::len), Some(3));
    // Lines have no lastModifiedDateTime in $metadata (nor in the recorded real responses);
    // headers do.
    assert!(so["lastModifiedDateTime"].is_string());
    assert!(
        so["salesOrderLines"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|l| l.get("lastModifiedDateTime").is_none()),
        "{so}"
    );
    let so_path = format!("{co}/salesOrders({})", id(&so));
    let line = c
        .call(
            Method::POST,
            &format!("{so_path}/salesOrderLines"),
            &[],
            Some(json!({"lineType": "Item", "lineObjectNumber": "1000", "quantity": 1})),
            Entity(201, "salesOrderLine"),
        )
        .await;
    let line_path = format!("{so_path}/salesOrderLines({})", id(&line));
    let line = c
        .call(
            Method::PATCH,
            &line_path,
            &[("If-Match", &etag(&line))],
            Some(json!({"quantity": 3})),
            Entity(200, "salesOrderLine"),
        )
        .await;
    c.call(
        Method::GET,
        &line_path,
        &[],
        None,
        Entity(200, "salesOrderLine"),
    )
    .await;
    c.call(
        Method::DELETE,
        &line_path,
        &[("If-Match", &etag(&line))],
        None,
        NoContent,
    )
    .await;
    let so = c
        .call(Method::GET, &so_path, &[], None, Entity(200, "salesOrder"))
        .await;
    c.call(
        Method::PATCH,
        &so_path,
        &[("If-Match", &etag(&so))],
        Some(json!({"externalDocumentNumber": "LS-1b"})),
        Entity(200, "salesOrder"),
    )
    .await;
    c.call(
        Method::POST,
        &format!("{so_path}/Microsoft.NAV.shipAndInvoice"),
        &[],
        None,
        NoContent,
    )
    .await;
    let inv = c
        .call(
            Method::POST,
            &format!("{co}/salesInvoices"),
            &[],
            Some(json!({"customerNumber": "10000", "externalDocumentNumber": "LS-2",
                "salesInvoiceLines": [{"lineType": "Item", "lineObjectNumber": "1000", "quantity": 1}]})),
            Entity(201, "salesInvoice"),
        )
        .await;
    let inv_path = format!("{co}/salesInvoices({})", id(&inv));
    c.call(
        Method::GET,
        &format!("{inv_path}?$expand=salesInvoiceLines"),
        &[],
        None,
        Entity(200, "salesInvoice"),
    )
    .await;
    c.call(
        Method::GET,
        &format!("{inv_path}/salesInvoiceLines"),
        &[],
        None,
        List("salesInvoiceLine"),
    )
    .await;
    c.call(
        Method::POST,
        &format!("{inv_path}/Microsoft.NAV.post"),
        &[],
        None,
        NoContent,
    )
    .await;
    c.call(
        Method::GET,
        &format!("{co}/itemLedgerEntries?$orderby=entryNumber desc&$top=3"),
        &[],
        None,
        List("itemLedgerEntry"),
    )
    .await;

    // $batch: each inner answer checked as its own request.
    let batch = c
        .call(
            Method::POST,
            "$batch",
            &[],
            Some(json!({"requests": [
                {"id": "1", "method": "GET", "url": format!("{co}/customers?$top=2")},
                {"id": "2", "method": "POST", "url": format!("{co}/customers"),
                 "headers": {"Content-Type": "application/json"},
                 "body": {"displayName": "Batch customer"}},
                {"id": "3", "method": "GET", "url": format!("{co}/customers(00000000-0000-0000-0000-0000000000ff)")},
            ]})),
            Entity(200, "customer"),
        )
        .await;
    // The envelope is not an entity: judged here by hand instead.
    c.failures.retain(|f| !f.starts_with("POST $batch"));
    let responses = batch["responses"].as_array().cloned().unwrap_or_default();
    assert_eq!(responses.len(), 3, "{batch}");
    for (r, expect) in responses.iter().zip([
        List("customer"),
        Entity(201, "customer"),
        Error(404, Some("BadRequest_ResourceNotFound")),
    ]) {
        let status = r["status"].as_u64().unwrap_or(0) as u16;
        c.check(
            "$batch operation",
            status,
            r.get("body").unwrap_or(&Value::Null),
            &expect,
        );
    }

    // Subscriptions.
    let sub = c
        .call(
            Method::POST,
            "subscriptions",
            &[],
            Some(json!({"notificationUrl": "https://example.com/hook",
                "resource": format!("api/v2.0/{co}/customers"), "clientState": "s3cret"})),
            Entity(201, "subscriptions"),
        )
        .await;
    c.call(
        Method::GET,
        "subscriptions",
        &[],
        None,
        List("subscriptions"),
    )
    .await;
    let sub_path = format!(
        "subscriptions('{}')",
        sub["subscriptionId"].as_str().unwrap_or("")
    );
    let sub = c
        .call(
            Method::PATCH,
            &sub_path,
            &[("If-Match", sub["@odata.etag"].as_str().unwrap_or("*"))],
            Some(json!({"notificationUrl": "https://example.com/hook",
                "resource": format!("api/v2.0/{co}/customers"), "clientState": "s3cret"})),
            Entity(200, "subscriptions"),
        )
        .await;
    c.call(
        Method::DELETE,
        &sub_path,
        &[("If-Match", sub["@odata.etag"].as_str().unwrap_or("*"))],
        None,
        NoContent,
    )
    .await;

    // Errors the client meets.
    c.call(
        Method::POST,
        &format!("{co}/customers"),
        &[],
        Some(json!({"number": "10000", "displayName": "Duplicate"})),
        Error(409, Some("Internal_EntityWithSameKeyExists")),
    )
    .await;
    c.call(
        Method::GET,
        &format!("{co}/customers?$filter=number eq"),
        &[],
        None,
        Error(400, None),
    )
    .await;
    c.call(
        Method::POST,
        &format!("{co}/itemLedgerEntries"),
        &[],
        Some(json!({"description": "x"})),
        Error(405, Some("BadRequest_MethodNotAllowed")),
    )
    .await;

    // A custom API route: its entity sets are not in the standard $metadata (each custom API
    // has its own), so only what every OData entity answer has is checked: the status, an
    // `@odata.etag`, and the error shape.
    sb.add_custom_api("contoso", "pos", "v1.0", &["carBrands"]);
    let custom = HttpClient::builder(format!("{}/api/contoso/pos/v1.0/", sb.base_url()))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let created = custom
        .request(Method::POST, &format!("{co}/carBrands"))
        .json(&json!({"name": "Volvo"}))
        .send_any_status()
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&created.body).unwrap();
    assert_eq!(created.status.as_u16(), 201, "{body}");
    assert!(
        body["@odata.etag"].is_string() && body["id"].is_string(),
        "{body}"
    );
    let missing = custom
        .request(Method::GET, &format!("{co}/carModels"))
        .send_any_status()
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&missing.body).unwrap();
    c.check(
        "GET custom carModels",
        missing.status.as_u16(),
        &body,
        &Error(404, None),
    );

    println!(
        "{} responses checked against $metadata, statuses {:?}",
        c.checked, c.statuses
    );
    assert!(c.failures.is_empty(), "{}", c.failures.join("\n"));
    assert_eq!(sb.spec_violations(), Vec::<String>::new());
    assert!(c.checked >= 90, "{} responses", c.checked);
}

/// `GET path` over a plain HTTP/1.1 connection: (status, head, body).
async fn raw_get(addr: &str, path: &str) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

#[tokio::test]
async fn auth_and_throttling_errors_have_the_documented_shape() {
    let Some(md) = require_metadata() else {
        return;
    };
    let sb = Sandbox::builder()
        .rate_limit(2, Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let mut c = Contract::new(md, &sb);
    let co = format!("companies({})", sb.company_id());
    // No token: 401.
    c.call(
        Method::GET,
        &format!("{co}/customers"),
        &[],
        None,
        Expect::Error(401, Some("Authentication_InvalidCredentials")),
    )
    .await;
    // Past the rate limit: 429 with Retry-After (read over a bare connection: the HTTP client
    // turns a 429 into its own error).
    let mut throttled = false;
    let origin = pos_http::Url::parse(&sb.base_url()).unwrap();
    let addr = format!(
        "{}:{}",
        origin.host_str().unwrap(),
        origin.port_or_known_default().unwrap()
    );
    for _ in 0..5 {
        let (status, head, body) =
            raw_get(&addr, &format!("{}/api/v2.0/{co}/customers", origin.path())).await;
        if status == 429 {
            assert!(head.to_ascii_lowercase().contains("retry-after:"), "{head}");
            let body: Value = serde_json::from_str(&body).unwrap();
            c.check("GET throttled", 429, &body, &Expect::Error(429, None));
            throttled = true;
            break;
        }
    }
    assert!(throttled, "the rate limit answers 429");
    assert!(c.failures.is_empty(), "{}", c.failures.join("\n"));
    assert_eq!(c.checked, 2);
}

#[tokio::test]
async fn requests_that_metadata_refuses_get_business_centrals_errors() {
    let Some(md) = require_metadata() else {
        return;
    };
    let sb = Sandbox::builder()
        .require_auth(false)
        .start()
        .await
        .unwrap();
    let mut c = Contract::new(md, &sb);
    let co = format!("companies({})", sb.company_id());
    let customers = format!("{co}/customers");
    use Expect::Error;
    for (body, code) in [
        (json!({"displayName": "x", "nickname": "y"}), "BadRequest"),
        (json!({"displayName": 5}), "BadRequest"),
        (
            json!({"displayName": "x", "taxLiable": "yes"}),
            "BadRequest",
        ),
        (json!({"displayName": "x", "blocked": " "}), "Unknown"),
        (
            json!({"displayName": "x".repeat(101)}),
            "Application_StringExceededLength",
        ),
        (
            json!({"displayName": "x", "lastModifiedDateTime": "2024-01-01T00:00:00Z"}),
            "BadRequest_InvalidOperation",
        ),
        (
            json!({"displayName": "x", "balanceDue": 1}),
            "BadRequest_InvalidOperation",
        ),
        (
            json!({"displayName": "x", "id": "f2a5738a-44e3-ea11-bb43-000d3a2feca1"}),
            "BadRequest_InvalidOperation",
        ),
    ] {
        let answer = c
            .call(
                Method::POST,
                &customers,
                &[],
                Some(body.clone()),
                Error(400, Some(code)),
            )
            .await;
        assert!(answer["error"]["message"].is_string(), "{body} -> {answer}");
    }
    // Lines of a deep insert are checked too.
    c.call(
        Method::POST,
        &format!("{co}/salesOrders"),
        &[],
        Some(json!({"customerNumber": "10000", "salesOrderLines": [
            {"lineType": "Item", "lineObjectNumber": "1000", "quantity": 1, "netAmount": 5}]})),
        Error(400, Some("BadRequest_InvalidOperation")),
    )
    .await;
    // Lines have no lastModifiedDateTime in $metadata.
    c.call(
        Method::POST,
        &format!("{co}/salesOrders"),
        &[],
        Some(json!({"customerNumber": "10000", "salesOrderLines": [
            {"lineType": "Item", "lineObjectNumber": "1000", "quantity": 1, "lastModifiedDateTime": "2024-01-01T00:00:00Z"}]})),
        Error(400, Some("BadRequest")),
    )
    .await;
    // Query options naming what the type does not have.
    for query in [
        "$select=id,nickname",
        "$filter=nickname eq 'x'",
        "$orderby=nickname desc",
        "$expand=orders",
        "$expand=paymentTerm($select=nickname)",
    ] {
        c.call(
            Method::GET,
            &format!("{customers}?{query}"),
            &[],
            None,
            Error(400, Some("BadRequest_NotFound")),
        )
        .await;
    }
    // Paths: an entity set, a navigation and an action $metadata does not have.
    for path in [
        format!("{co}/customerz"),
        format!("{co}/customers(f2a5738a-44e3-ea11-bb43-000d3a2feca1)/orders"),
    ] {
        c.call(
            Method::GET,
            &path,
            &[],
            None,
            Error(404, Some("BadRequest_ResourceNotFound")),
        )
        .await;
    }
    let order = c
        .call(
            Method::GET,
            &format!("{co}/salesOrders?$top=1"),
            &[],
            None,
            Expect::List("salesOrder"),
        )
        .await;
    c.call(
        Method::POST,
        &format!(
            "{co}/salesOrders({})/Microsoft.NAV.post",
            id(&order["value"][0])
        ),
        &[],
        None,
        Error(404, Some("BadRequest_ResourceNotFound")),
    )
    .await;
    // Sets $metadata marks read-only.
    c.call(
        Method::POST,
        "companies",
        &[],
        Some(json!({"name": "New"})),
        Error(405, Some("BadRequest_MethodNotAllowed")),
    )
    .await;
    // Refused requests change nothing.
    let after = c
        .call(
            Method::GET,
            &format!("{customers}?$filter=displayName eq 'x'"),
            &[],
            None,
            Expect::List("customer"),
        )
        .await;
    assert_eq!(after["value"].as_array().map(Vec::len), Some(0));
    assert!(c.failures.is_empty(), "{}", c.failures.join("\n"));
    assert_eq!(sb.spec_violations(), Vec::<String>::new());
}

#[tokio::test]
async fn the_checkers_catch_a_wrong_field_a_wrong_type_and_a_wrong_status() {
    let Some(md) = require_metadata() else {
        return;
    };
    // The test's own checker, on a real sandbox answer with a deliberate mistake.
    let sb = Sandbox::builder()
        .require_auth(false)
        .start()
        .await
        .unwrap();
    let mut c = Contract::new(md, &sb);
    let co = format!("companies({})", sb.company_id());
    let list = c
        .call(
            Method::GET,
            &format!("{co}/customers?$top=1"),
            &[],
            None,
            Expect::List("customer"),
        )
        .await;
    assert!(c.failures.is_empty(), "{:?}", c.failures);
    let good = list["value"][0].clone();
    let mut extra = good.clone();
    extra["nickname"] = json!("Ada");
    let mut typed = good.clone();
    typed["balanceDue"] = json!("12.50");
    let mut no_etag = good.clone();
    no_etag.as_object_mut().unwrap().remove("@odata.etag");
    let mut member = good.clone();
    member["blocked"] = json!("Blocked");
    for (bad, kind) in [
        (extra, ViolationKind::UnknownProperty),
        (typed, ViolationKind::WrongType),
        (no_etag, ViolationKind::MissingEtag),
        (member, ViolationKind::NotAnEnumMember),
    ] {
        let found = md.check_entity("customers", &bad, Direction::Response);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, kind);
    }
    assert!(
        !judge(md, 201, &good, &Expect::Entity(200, "customer")).is_empty(),
        "wrong status"
    );
    assert!(
        !judge(
            md,
            404,
            &json!({"error": {"code": "X"}}),
            &Expect::Error(404, None)
        )
        .is_empty()
    );

    // The sandbox's own response checker: a stored row with a property `$metadata` does not
    // have, then one with a wrong type, makes its answer a 500 naming the violation.
    let row = id(&good);
    assert!(sb.inject_raw_field("customers", &row, "lastModifiedBy", json!("ADMIN")));
    let answer = c
        .call(
            Method::GET,
            &format!("{co}/customers({row})"),
            &[],
            None,
            Expect::Error(500, Some("Internal_ServerError")),
        )
        .await;
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("lastModifiedBy"),
        "{answer}"
    );
    let violations = sb.spec_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].contains("lastModifiedBy"), "{violations:?}");

    // Turned off, the same sandbox mistake goes through unnoticed: the checks are what catch it.
    let off = Sandbox::builder()
        .require_auth(false)
        .spec_checks(false)
        .start()
        .await
        .unwrap();
    let mut c2 = Contract::new(md, &off);
    let co2 = format!("companies({})", off.company_id());
    let l = c2
        .call(
            Method::GET,
            &format!("{co2}/customers?$top=1"),
            &[],
            None,
            Expect::List("customer"),
        )
        .await;
    let row2 = id(&l["value"][0]);
    assert!(off.inject_raw_field("customers", &row2, "taxLiable", json!("yes")));
    let body = c2
        .call(
            Method::GET,
            &format!("{co2}/customers({row2})"),
            &[],
            None,
            Expect::Entity(200, "customer"),
        )
        .await;
    assert_eq!(body["taxLiable"], "yes");
    assert_eq!(
        c2.failures.len(),
        1,
        "the test's checker flags it: {:?}",
        c2.failures
    );
    assert!(c2.failures[0].contains("taxLiable"));
    assert!(off.spec_violations().is_empty());
}
