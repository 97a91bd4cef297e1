//! Every call of the client in the date version 2026-07 and in the legacy 2.0/2.1, checked twice:
//!
//! 1. against the exact request written out here from the official specs (method, path, query,
//!    JSON body), in order, with wiremock standing in for the store;
//! 2. against the official OpenAPI document of that version itself: the operation exists for the
//!    method and path, every query parameter is declared and parses as its schema says (type, enum,
//!    maximum), and the JSON body matches the operation's request schema (declared keys only, types,
//!    enums, maximum, required keys).
//!
//! The responses wiremock gives are shaped as each version documents them: bare arrays for the
//! 2026-07 inventory reads, `{"min": null, "max": null}` on empty 2026-07 pages, and the restructured
//! 2026-07 sale (checked against the 2026-07 response schema before it is served).

use chrono::{TimeZone, Utc};
use futures::TryStreamExt;
use lightspeed_x::*;
use rust_decimal_macros::dec;
use serde_json::{Value, json};
use std::path::Path;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

// ---------------------------------------------------------------------------------------------
// The store stand-in.

/// A 2026-07 sale as `GET /sales` and `GET /sales/{sale_id}` document it (the spec has no example).
fn dated_sale() -> Value {
    json!({
        "id": "s-1", "date": "2026-07-03T10:00:00Z", "state": "closed", "attributes": [],
        "created_at": "2026-07-03T10:00:00Z", "updated_at": "2026-07-03T10:01:00Z",
        "customer_id": "c-1", "invoice_number": "INV-1", "receipt_number": "1", "note": "",
        "short_code": "abc",
        "source": {"author": {"id": "u-1"}, "outlet_id": "o-1", "register_id": "r-1", "id": "ext-9",
                   "type": "USER"},
        "totals": {"price": 20.5, "price_incl_tax": 23.575, "tax": 3.075, "loyalty": 0,
                   "surcharge": 0},
        "_metadata": {"version": 4411},
        "return": {"is_return": false, "return_sale_ids": []},
        "taxes": [{"id": "t-1", "tax": 3.075}],
        "adjustments": [],
        "line_items": [{
            "id": "l-1", "quantity": 2, "status": "CONFIRMED", "salesperson_id": "u-2",
            "product": {"id": "p-1"},
            "pricing": {"price": 10.25, "total": 20.5, "cost": 4, "cost_total": 8, "discount": 0,
                        "discount_total": 0, "loyalty_amount": 0, "loyalty_amount_total": 0},
            "tax": {"id": "t-1", "amount": 1.5375, "total": 3.075},
            "return": {"is_return": false},
            "_metadata": {"sequence": 1, "is_price_override": false,
                          "tax_components": [{"rate_id": "rate-1", "total_tax": 3.075}]},
            "source": {"register_id": "r-1"}
        }],
        "payments": [{
            "id": "pay-1", "amount": 23.575, "date": "2026-07-03T10:01:00Z",
            "type": {"config_id": "pt-1", "id": "1", "name": "Cash"},
            "source": {"outlet_id": "o-1", "register_id": "r-1"},
            "surcharge": {"rule": "none", "amount": 0}
        }]
    })
}

/// Inventory records in each version's shape (values of the official examples).
fn inventory_records(dated: bool) -> Value {
    let level = if dated {
        "current_inventory_level"
    } else {
        "inventory_level"
    };
    json!([
        {"id": "i-1", "product_id": "p-1", "outlet_id": "o-1", level: 10, "version": 1639940},
        {"id": "i-2", "product_id": "p-1", "outlet_id": "o-2", level: 6, "version": 1639941},
        {"id": "i-3", "product_id": "p-2", "outlet_id": "o-2", level: -0.5, "version": 3426971}
    ])
}

fn respond(dated: bool, req: &Request) -> ResponseTemplate {
    let path = req.url.path();
    let rest = path
        .trim_start_matches("/api/")
        .split_once('/')
        .map_or("", |(_, r)| r);
    let after = req
        .url
        .query_pairs()
        .find(|(k, _)| k == "after")
        .map(|(_, v)| v.into_owned());
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let first = after.as_deref() == Some("0") || body.get("after") == Some(&json!(0));
    let empty_page = if dated {
        json!({"data": [], "version": {"min": null, "max": null}})
    } else {
        json!({"data": []})
    };
    let ok = |v: Value| ResponseTemplate::new(200).set_body_json(v);
    match (req.method.as_str(), rest) {
        ("GET", "retailer") => ok(json!({"data": {"id": "ret", "name": "Demo"}})),
        ("GET", "sales") if first && dated => ok(json!({
            "data": [dated_sale()], "version": {"min": 4411, "max": 4411}
        })),
        ("GET", r) if r.starts_with("sales/") && dated => ok(json!({"data": dated_sale()})),
        ("GET", "sales") if first => ok(json!({
            "data": [{"id": "s-1", "sale_date": "2026-07-03T10:00:00Z", "total_price": 20.5,
                      "user_id": "u-1", "version": 4411}],
            "version": {"min": 4411, "max": 4411}
        })),
        ("POST", "inventory") if first && body.get("product_id").is_none() => {
            ok(inventory_records(true))
        }
        ("POST", "inventory") => ok(json!([])),
        ("GET", "inventory") if first => ok(json!({"data": inventory_records(false)})),
        ("GET", r) if r.starts_with("inventory/") => ok(json!([])),
        ("GET", "search") => ok(json!({"data": []})),
        ("GET", "webhooks") => ok(json!({"data": []})),
        ("GET", r) if r.ends_with("/inventory") || !r.contains('/') => ok(empty_page),
        ("GET", r) if r.ends_with("/products") => ok(empty_page),
        ("GET", r) => {
            let id = r.rsplit('/').next().unwrap_or_default();
            ok(json!({"data": {"id": id}}))
        }
        ("POST", "products") => ok(json!({"data": ["p-new"]})),
        ("POST", "customers") => {
            ResponseTemplate::new(201).set_body_json(json!({"data": {"id": "c-new"}}))
        }
        ("PUT", r) if r.starts_with("customers/") => ok(json!({"data": {"id": "c-1"}})),
        ("POST", "webhooks") => ResponseTemplate::new(201).set_body_json(json!({"data": {
            "id": "w-1", "url": "https://hooks.example/x", "active": true, "type": "sale.update"
        }})),
        ("PUT", _) => ok(json!({})),
        ("DELETE", r) if r.starts_with("customers/") => ResponseTemplate::new(204),
        ("DELETE", _) => ok(json!({})),
        _ => ResponseTemplate::new(404).set_body_json(json!({"error": "not found"})),
    }
}

async fn store(dated: bool) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(move |req: &Request| respond(dated, req))
        .mount(&server)
        .await;
    server
}

async fn client(server: &MockServer, version: Option<ApiVersion>) -> Client {
    let mut b = Client::builder()
        .base_url(server.uri())
        .personal_token("tok".into())
        .unlimited();
    if let Some(v) = version {
        b = b.api_version(v);
    }
    b.build().await.unwrap()
}

// ---------------------------------------------------------------------------------------------
// Every call the client makes.

/// Makes every call of the client once (lists to their end), checking what it decoded.
async fn every_call(c: &Client) {
    let dated = c.api_version().is_dated();
    c.retailer().await.unwrap();
    c.outlets().list().deleted(true).all().await.unwrap();
    c.outlets().get(&OutletId::new("o-1")).await.unwrap();
    c.registers().list().all().await.unwrap();
    c.registers().get(&RegisterId::new("r-1")).await.unwrap();
    c.users().list().page_size(200).all().await.unwrap();
    c.users().get(&UserId::new("u-1")).await.unwrap();
    c.users().me().await.unwrap();

    let products = c.products();
    products
        .list()
        .page_size(1000)
        .deleted(true)
        .all()
        .await
        .unwrap();
    products.get(&ProductId::new("p-1")).await.unwrap();
    let created = products
        .create(&ProductCreate {
            name: "Mug".into(),
            sku: Some("mug-1".into()),
            price_excluding_tax: Some(dec!(10.50)),
            inventory: vec![InventoryLevel::set("o-1", dec!(3))],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created, vec![ProductId::new("p-new")]);
    c.inventory()
        .set_level(&ProductId::new("p-1"), &OutletId::new("o-1"), dec!(5))
        .await
        .unwrap();
    products.delete(&ProductId::new("p-1")).await.unwrap();
    let one = products
        .inventory(&ProductId::new("p-1"))
        .unwrap()
        .all()
        .await
        .unwrap();
    assert!(one.is_empty());
    products.find_by_sku(" ABC-123 ").await.unwrap();

    // The whole stock, by version cursor.
    let mut stream = c.inventory().list().stream();
    let mut total = dec!(0);
    while let Some(i) = stream.try_next().await.unwrap() {
        total += i.inventory_level;
    }
    assert_eq!(total, dec!(15.5), "10 + 6 - 0.5 from either level name");
    assert_eq!(stream.cursor(), Version(3426971));
    assert_eq!(stream.pages_fetched(), 2);
    if dated {
        c.inventory()
            .for_product(&ProductId::new("p-1"), true)
            .unwrap()
            .deleted(true)
            .all()
            .await
            .unwrap();
    } else {
        assert!(matches!(
            c.inventory().for_product(&ProductId::new("p-1"), true),
            Err(Error::InvalidInput(_))
        ));
    }

    let customers = c.customers();
    customers.list().deleted(true).all().await.unwrap();
    customers.get(&CustomerId::new("c-1")).await.unwrap();
    let input = CustomerInput {
        first_name: Some("Jo".into()),
        last_name: Some("Bloggs".into()),
        email: Some("jo@example.com".into()),
        ..Default::default()
    };
    customers.create(&input).await.unwrap();
    let update = CustomerUpdate::with_names(
        Some("Jo".into()),
        Some("Bloggs".into()),
        CustomerInput {
            email: Some("jo@example.com".into()),
            ..Default::default()
        },
    );
    customers
        .update(&CustomerId::new("c-1"), &update)
        .await
        .unwrap();
    customers.delete(&CustomerId::new("c-1")).await.unwrap();
    customers.find_by_email("jo@example.com").await.unwrap();

    let sales = c.sales().list().all().await.unwrap();
    assert_eq!(sales.len(), 1);
    let s = &sales[0];
    assert_eq!(s.version, Some(Version(4411)));
    assert_eq!(s.user_id.as_ref().map(|u| u.as_str()), Some("u-1"));
    assert_eq!(s.total_price, dec!(20.5));
    assert!(s.sale_date.is_some());
    let one = c.sales().get(&SaleId::new("s-1")).await.unwrap();
    if dated {
        assert_eq!(one.total_tax, dec!(3.075));
        assert_eq!(one.line_items[0].product_id, Some(ProductId::new("p-1")));
        assert_eq!(one.line_items[0].tax_total, dec!(3.075));
        assert_eq!(
            one.payments[0].retailer_payment_type_id,
            Some(PaymentTypeId::new("pt-1"))
        );
        assert_eq!(one.outlet_id, Some(OutletId::new("o-1")));
    }
    c.sales()
        .search()
        .outlet(&OutletId::new("o-1"))
        .date_from(Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap())
        .date_to(Utc.with_ymd_and_hms(2026, 7, 2, 0, 0, 0).unwrap())
        .state(SaleState::Closed)
        .all()
        .await
        .unwrap();

    c.payment_types().list().deleted(true).all().await.unwrap();
    c.taxes().list().all().await.unwrap();
    c.taxes().outlet_taxes().deleted(true).all().await.unwrap();
    c.consignments()
        .list_filtered(
            Some(ConsignmentType::Supplier),
            Some(ConsignmentStatus::Open),
            Some(&OutletId::new("o-1")),
        )
        .all()
        .await
        .unwrap();
    c.consignments()
        .get(&ConsignmentId::new("k-1"))
        .await
        .unwrap();
    c.consignments()
        .products(&ConsignmentId::new("k-1"))
        .unwrap()
        .all()
        .await
        .unwrap();
    c.shifts().list().after(100).all().await.unwrap();
    c.webhooks().list().await.unwrap();
    let hook = c
        .webhooks()
        .create("https://hooks.example/x", WebhookType::SaleUpdate)
        .await
        .unwrap();
    c.webhooks().delete(&hook.id).await.unwrap();
}

/// One expected request: method, path, query pairs (any order), JSON body.
type Expected = (
    &'static str,
    String,
    Vec<(&'static str, String)>,
    Option<Value>,
);

fn get(path: String, query: &[(&'static str, &str)]) -> Expected {
    let q = query.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    ("GET", path, q, None)
}

fn send(method: &'static str, path: String, body: Option<Value>) -> Expected {
    (method, path, Vec::new(), body)
}

/// The requests of [`every_call`], written out from the official spec of each version.
fn expected(dated: bool) -> Vec<Expected> {
    let v = if dated { "2026-07" } else { "2.0" };
    let p = |rest: &str| format!("/api/{v}/{rest}");
    let level_body = json!({"details": {"inventory": [{"outlet_id": "o-1", "current_amount": 5}]}});
    let customer = json!({"first_name": "Jo", "last_name": "Bloggs", "email": "jo@example.com"});
    let mut e = vec![
        get(p("retailer"), &[]),
        get(p("outlets"), &[("after", "0"), ("deleted", "true")]),
        get(p("outlets/o-1"), &[]),
        get(p("registers"), &[("after", "0")]),
        get(p("registers/r-1"), &[]),
        get(p("users"), &[("after", "0"), ("page_size", "200")]),
        get(p("users/u-1"), &[]),
        get(p("user"), &[]),
        get(
            p("products"),
            &[("after", "0"), ("page_size", "1000"), ("deleted", "true")],
        ),
        get(p("products/p-1"), &[]),
        send(
            "POST",
            p("products"),
            Some(
                json!({"name": "Mug", "sku": "mug-1", "price_excluding_tax": 10.5,
                        "inventory": [{"outlet_id": "o-1", "current_amount": 3}]}),
            ),
        ),
    ];
    if dated {
        // 2026-07 has PUT /products/{product_id} (the 2.1 body) and its inventory reads.
        e.extend([
            send("PUT", p("products/p-1"), Some(level_body)),
            send("DELETE", p("products/p-1"), None),
            get(
                p("inventory/p-1"),
                &[
                    ("after", "0"),
                    ("page_size", "5000"),
                    ("order_direction", "asc"),
                ],
            ),
        ]);
    } else {
        e.extend([
            send("PUT", "/api/2.1/products/p-1".into(), Some(level_body)),
            send("DELETE", p("products/p-1"), None),
            get(p("products/p-1/inventory"), &[("after", "0")]),
        ]);
    }
    e.push(get(
        p("search"),
        &[
            ("type", "products"),
            ("sku", "abc-123"),
            ("page_size", "1000"),
            ("offset", "0"),
        ],
    ));
    if dated {
        e.extend([
            send(
                "POST",
                p("inventory"),
                Some(json!({"after": 0, "size": 5000, "sort_direction": "asc"})),
            ),
            send(
                "POST",
                p("inventory"),
                Some(json!({"after": 3426971, "size": 5000, "sort_direction": "asc"})),
            ),
            send(
                "POST",
                p("inventory"),
                Some(json!({"after": 0, "size": 5000, "sort_direction": "asc",
                            "include_deleted": true, "product_id": "p-1", "variants": true})),
            ),
        ]);
    } else {
        e.extend([
            get(p("inventory"), &[("after", "0")]),
            get(p("inventory"), &[("after", "3426971")]),
        ]);
    }
    e.extend([
        get(p("customers"), &[("after", "0"), ("deleted", "true")]),
        get(p("customers/c-1"), &[]),
        send("POST", p("customers"), Some(customer.clone())),
        send("PUT", p("customers/c-1"), Some(customer)),
        send("DELETE", p("customers/c-1"), None),
        get(
            p("search"),
            &[
                ("type", "customers"),
                ("email", "jo@example.com"),
                ("page_size", "1000"),
                ("offset", "0"),
            ],
        ),
        get(p("sales"), &[("after", "0")]),
        get(p("sales"), &[("after", "4411")]),
        get(p("sales/s-1"), &[]),
        get(
            p("search"),
            &[
                ("type", "sales"),
                ("outlet_id", "o-1"),
                ("date_from", "2026-07-01T00:00:00Z"),
                ("date_to", "2026-07-02T00:00:00Z"),
                ("state", "closed"),
                ("page_size", "1000"),
                ("offset", "0"),
            ],
        ),
    ]);
    // `deleted` on /payment_types is a 2026-07 parameter; 2.0 does not declare it.
    if dated {
        e.push(get(
            p("payment_types"),
            &[("after", "0"), ("deleted", "true")],
        ));
    } else {
        e.push(get(p("payment_types"), &[("after", "0")]));
    }
    e.extend([
        get(p("taxes"), &[("after", "0")]),
        get(p("outlet_taxes"), &[("after", "0"), ("deleted", "true")]),
        get(
            p("consignments"),
            &[
                ("after", "0"),
                ("type", "SUPPLIER"),
                ("status", "OPEN"),
                ("outlet_id", "o-1"),
            ],
        ),
        get(p("consignments/k-1"), &[]),
        get(p("consignments/k-1/products"), &[("after", "0")]),
        get(p("shifts"), &[("after", "100")]),
        get(p("webhooks"), &[]),
        send(
            "POST",
            p("webhooks"),
            Some(json!({"url": "https://hooks.example/x", "active": true, "type": "sale.update"})),
        ),
        send("DELETE", p("webhooks/w-1"), None),
    ]);
    e
}

fn sorted(mut q: Vec<(String, String)>) -> Vec<(String, String)> {
    q.sort();
    q
}

/// Compares what the client sent with [`expected`], request by request.
fn assert_requests(reqs: &[Request], dated: bool) {
    let want = expected(dated);
    let got: Vec<String> = reqs
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(
        reqs.len(),
        want.len(),
        "request count; sent:\n{}",
        got.join("\n")
    );
    for (i, (req, (method, path, query, body))) in reqs.iter().zip(want).enumerate() {
        let at = format!("request {i}: {} {}", req.method, req.url);
        assert_eq!(req.method.as_str(), method, "{at}");
        assert_eq!(req.url.path(), path, "{at}");
        let sent_query: Vec<(String, String)> = req.url.query_pairs().into_owned().collect();
        let want_query: Vec<(String, String)> =
            query.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        assert_eq!(sorted(sent_query), sorted(want_query), "{at}: query");
        let sent_body: Option<Value> =
            (!req.body.is_empty()).then(|| serde_json::from_slice(&req.body).unwrap());
        assert_eq!(sent_body, body, "{at}: body");
        if body.is_some() {
            let ct = req.headers.get("content-type").unwrap().to_str().unwrap();
            assert_eq!(ct, "application/json", "{at}");
        }
        let auth = req.headers.get("authorization").unwrap().to_str().unwrap();
        assert_eq!(auth, "Bearer tok", "{at}");
    }
}

// ---------------------------------------------------------------------------------------------
// The official documents.

/// The OpenAPI documents of a version, each with the path prefix its server URL gives.
struct Specs {
    docs: Vec<(String, Value)>,
}

impl Specs {
    fn load(dir: &Path, files: &[(&str, &str)]) -> Specs {
        let docs = files
            .iter()
            .map(|(prefix, file)| {
                let path = dir.join("lightspeed-x/openapi").join(file);
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                ((*prefix).to_owned(), serde_json::from_str(&text).unwrap())
            })
            .collect();
        Specs { docs }
    }

    /// The document, path item and operation serving `method path`; the template with the most
    /// literal segments wins (`/inventory/reorder_points` over `/inventory/{product_id}`).
    fn operation(&self, method: &str, path: &str) -> Option<(&Value, &Value, &Value)> {
        let mut best: Option<(usize, (&Value, &Value, &Value))> = None;
        for (prefix, doc) in &self.docs {
            let Some(rest) = path.strip_prefix(prefix.as_str()) else {
                continue;
            };
            let segs: Vec<&str> = rest.split('/').collect();
            for (template, item) in doc["paths"].as_object().unwrap() {
                let tsegs: Vec<&str> = template.split('/').collect();
                if tsegs.len() != segs.len() {
                    continue;
                }
                let mut literal = 0;
                let fits = tsegs.iter().zip(&segs).all(|(t, s)| {
                    if t.starts_with('{') && t.ends_with('}') {
                        !s.is_empty()
                    } else {
                        literal += 1;
                        t == s
                    }
                });
                let Some(op) = item.get(method.to_lowercase()) else {
                    continue;
                };
                if fits && best.as_ref().is_none_or(|(n, _)| literal > *n) {
                    best = Some((literal, (doc, item, op)));
                }
            }
        }
        best.map(|(_, found)| found)
    }
}

fn deref<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    while let Some(r) = v.get("$ref").and_then(Value::as_str) {
        v = doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("unresolved {r}"));
    }
    v
}

/// A schema with its `allOf` parts merged (properties and required keys).
fn merged(doc: &Value, schema: &Value) -> Value {
    let schema = deref(doc, schema);
    let Some(parts) = schema.get("allOf").and_then(Value::as_array) else {
        return schema.clone();
    };
    let mut out = json!({"type": "object", "properties": {}, "required": []});
    for part in parts {
        let part = merged(doc, part);
        if let Some(props) = part.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                out["properties"][k] = v.clone();
            }
        }
        if let Some(req) = part.get("required").and_then(Value::as_array) {
            out["required"]
                .as_array_mut()
                .unwrap()
                .extend(req.iter().cloned());
        }
    }
    out
}

/// Checks `value` against an OpenAPI 3.0 schema: type, nullable, enum, maximum, declared and
/// required properties, array items.
fn check_value(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = merged(doc, schema);
    if value.is_null() {
        if schema.get("nullable") != Some(&json!(true)) {
            errors.push(format!("{at}: null where the schema is not nullable"));
        }
        return;
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {options:?}"));
    }
    let kind = schema.get("type").and_then(Value::as_str);
    let fits = match kind {
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("string") => value.is_string(),
        Some("boolean") => value.is_boolean(),
        Some("array") => value.is_array(),
        Some("object") => value.is_object(),
        _ => true,
    };
    if !fits {
        errors.push(format!("{at}: {value} is not of type {kind:?}"));
        return;
    }
    if let (Some(max), Some(n)) = (
        schema.get("maximum").and_then(Value::as_f64),
        value.as_f64(),
    ) && n > max
    {
        errors.push(format!("{at}: {n} is above the maximum {max}"));
    }
    if let Some(items) = value.as_array() {
        let item_schema = schema.get("items").cloned().unwrap_or(json!({}));
        for (i, item) in items.iter().enumerate() {
            check_value(doc, &item_schema, item, &format!("{at}[{i}]"), errors);
        }
    }
    if let Some(object) = value.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for (key, v) in object {
            match props.and_then(|p| p.get(key)) {
                Some(s) => check_value(doc, s, v, &format!("{at}.{key}"), errors),
                None if props.is_some() => errors.push(format!("{at}.{key}: not declared")),
                None => {}
            }
        }
        for key in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(key) {
                errors.push(format!("{at}.{key}: required but missing"));
            }
        }
    }
}

/// A query value as the JSON value its declared schema reads.
fn typed(schema: &Value, text: &str) -> Value {
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") => text
            .parse::<i64>()
            .map_or_else(|_| json!(text), |n| json!(n)),
        Some("number") => text
            .parse::<f64>()
            .map_or_else(|_| json!(text), |n| json!(n)),
        Some("boolean") => match text {
            "true" => json!(true),
            "false" => json!(false),
            _ => json!(text),
        },
        _ => json!(text),
    }
}

/// Every way `req` departs from the operation the spec documents for it.
fn spec_violations(specs: &Specs, req: &Request) -> Vec<String> {
    let method = req.method.as_str();
    let path = req.url.path();
    let Some((doc, item, op)) = specs.operation(method, path) else {
        return vec![format!("{method} {path}: no such operation in the spec")];
    };
    let mut errors = Vec::new();
    let params: Vec<&Value> = op
        .get("parameters")
        .into_iter()
        .chain(item.get("parameters"))
        .flat_map(|p| p.as_array().unwrap())
        .map(|p| deref(doc, p))
        .filter(|p| p["in"] == "query")
        .collect();
    let pairs: Vec<(String, String)> = req.url.query_pairs().into_owned().collect();
    for (key, text) in &pairs {
        match params.iter().find(|p| p["name"] == key.as_str()) {
            None => errors.push(format!("{method} {path}: query `{key}` is not declared")),
            Some(p) => {
                let schema = deref(doc, &p["schema"]);
                let value = typed(schema, text);
                check_value(
                    doc,
                    schema,
                    &value,
                    &format!("{method} {path}?{key}"),
                    &mut errors,
                );
            }
        }
    }
    for p in params.iter().filter(|p| p["required"] == true) {
        if !pairs.iter().any(|(k, _)| p["name"] == k.as_str()) {
            errors.push(format!(
                "{method} {path}: query `{}` is required",
                p["name"]
            ));
        }
    }
    let schema = op
        .get("requestBody")
        .map(|b| deref(doc, b))
        .and_then(|b| b.pointer("/content/application~1json/schema"));
    match (req.body.is_empty(), schema) {
        (true, _) => {}
        (false, None) => errors.push(format!("{method} {path}: a body the spec does not take")),
        (false, Some(schema)) => {
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            check_value(
                doc,
                schema,
                &body,
                &format!("{method} {path} body"),
                &mut errors,
            );
        }
    }
    errors
}

fn specs_of(dated: bool) -> Option<Specs> {
    let dir = spec_oracle::require_reference_dir()?;
    Some(if dated {
        Specs::load(&dir, &[("/api/2026-07", "api-2026-07.json")])
    } else {
        // 2.0, the 2.1 product update, and the webhooks of the 2.0 BETA document.
        Specs::load(
            &dir,
            &[
                ("/api/2.0", "legacy-api-v2-0.json"),
                ("/api/2.1", "legacy-api-v2-1.json"),
                ("/api/2.0", "legacy-api-v2-0-beta.json"),
            ],
        )
    })
}

async fn check_version(version: Option<ApiVersion>, dated: bool) {
    let server = store(dated).await;
    let c = client(&server, version).await;
    assert_eq!(c.api_version().is_dated(), dated);
    every_call(&c).await;
    let reqs = server.received_requests().await.unwrap();
    assert_requests(&reqs, dated);
    if let Some(specs) = specs_of(dated) {
        let violations: Vec<String> = reqs
            .iter()
            .flat_map(|r| spec_violations(&specs, r))
            .collect();
        assert!(
            violations.is_empty(),
            "{} of {} requests depart from the spec:\n{}",
            violations.len(),
            reqs.len(),
            violations.join("\n")
        );
        // And once more through the project's JSON Schema oracle (the `jsonschema` crate over the
        // same documents, with its errata), which the sandbox uses on every request.
        for r in &reqs {
            let method = r.method.as_str();
            let (spec, path) = spec_oracle::openapi::lightspeed_for(method, r.url.path())
                .unwrap_or_else(|| panic!("no spec for {method} {}", r.url.path()));
            let query: Vec<(String, String)> = r.url.query_pairs().into_owned().collect();
            let body: Option<Value> =
                (!r.body.is_empty()).then(|| serde_json::from_slice(&r.body).unwrap());
            if let Err(v) = spec.validate_request(method, &path, &query, body.as_ref()) {
                panic!("{method} {}: {v:?}", r.url);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[tokio::test]
async fn the_default_speaks_2026_07_with_its_paths_and_shapes() {
    check_version(None, true).await;
}

#[tokio::test]
async fn an_explicit_date_version_speaks_2026_07() {
    check_version(Some(ApiVersion::V2026_07), true).await;
}

#[tokio::test]
async fn legacy_still_speaks_2_0_and_2_1() {
    check_version(Some(ApiVersion::legacy()), false).await;
}

#[tokio::test]
async fn a_later_date_version_only_changes_the_segment() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(|req: &Request| respond(true, req))
        .mount(&server)
        .await;
    let c = client(&server, Some("2026-10".parse().unwrap())).await;
    c.inventory().list().all().await.unwrap();
    c.inventory()
        .set_level(&ProductId::new("p-1"), &OutletId::new("o-1"), dec!(1))
        .await
        .unwrap();
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(
        paths,
        [
            "POST /api/2026-10/inventory",
            "POST /api/2026-10/inventory",
            "PUT /api/2026-10/products/p-1"
        ]
    );
}

#[tokio::test]
async fn inventory_page_size_is_capped_at_the_documented_5000() {
    let server = store(true).await;
    let c = client(&server, None).await;
    c.inventory()
        .list()
        .page_size(20_000)
        .after(3426971)
        .page()
        .await
        .unwrap();
    c.products()
        .inventory(&ProductId::new("p-9"))
        .unwrap()
        .page_size(250)
        .page()
        .await
        .unwrap();
    let reqs = server.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(
        body,
        json!({"after": 3426971, "size": 5000, "sort_direction": "asc"})
    );
    assert!(reqs[1].url.query().unwrap().contains("page_size=250"));
}

#[tokio::test]
async fn the_2026_07_sale_fixture_is_what_the_spec_documents() {
    let Some(specs) = specs_of(true) else { return };
    for (path, body) in [
        (
            "/api/2026-07/sales",
            json!({"data": [dated_sale()], "version": {"min": 4411, "max": 4411}}),
        ),
        ("/api/2026-07/sales/s-1", json!({"data": dated_sale()})),
        ("/api/2026-07/inventory/p-1", inventory_records(true)),
    ] {
        let (doc, _, op) = specs.operation("GET", path).unwrap();
        let schema = &deref(doc, &op["responses"]["200"])["content"]["application/json"]["schema"];
        let mut errors = Vec::new();
        check_value(doc, schema, &body, path, &mut errors);
        assert!(errors.is_empty(), "{errors:#?}");
    }
    // And the check catches a 2.0-shaped sale where 2026-07 documents objects.
    let (doc, _, op) = specs.operation("GET", "/api/2026-07/sales/s-1").unwrap();
    let schema = &deref(doc, &op["responses"]["200"])["content"]["application/json"]["schema"];
    let mut errors = Vec::new();
    check_value(
        doc,
        schema,
        &json!({"data": {"id": "s", "source": "USER", "line_items": [{"tax": 1.5}]}}),
        "2.0 sale",
        &mut errors,
    );
    assert_eq!(errors.len(), 2, "{errors:#?}");
}

#[tokio::test]
async fn the_spec_check_catches_a_wrong_request() {
    let Some(specs) = specs_of(true) else { return };
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let http = reqwest::Client::new();
    let base = server.uri();
    // What 2.0 would send, and a 2026-07 body with a wrong size and an unknown key.
    http.get(format!("{base}/api/2026-07/inventory?after=0"))
        .send()
        .await
        .unwrap();
    http.post(format!("{base}/api/2026-07/inventory"))
        .json(&json!({"after": 0, "size": 10000, "page_size": 5}))
        .send()
        .await
        .unwrap();
    http.get(format!(
        "{base}/api/2026-07/inventory/p-1?order_direction=up"
    ))
    .send()
    .await
    .unwrap();
    let reqs = server.received_requests().await.unwrap();
    let found: Vec<Vec<String>> = reqs.iter().map(|r| spec_violations(&specs, r)).collect();
    assert!(found[0][0].contains("no such operation"), "{found:?}");
    assert_eq!(found[1].len(), 2, "{found:?}");
    assert!(found[1].iter().any(|e| e.contains("maximum 5000")));
    assert!(
        found[1]
            .iter()
            .any(|e| e.contains("page_size: not declared"))
    );
    assert!(found[2][0].contains("\"up\" is not one of"), "{found:?}");
}

/// The stock of a store with 5,000 products at 2 outlets (the benches' full data set): 10,000
/// records, read from the sandbox (which checks every request and response against the spec of
/// its version) in pages of 1,000 on 2.0, as the stock flow's default page size asks, and in pages
/// of 5,000 on 2026-07.
#[tokio::test]
async fn a_large_stock_is_read_in_pages_of_5000_on_2026_07() {
    use lightspeed_x::sandbox::{DemoData, Sandbox};
    let sb = Sandbox::start_seeded(DemoData {
        product_families: 3000,
        customers: 1,
        days: 1,
        sales_per_day: 1,
        outlets: vec![
            ("Amsterdam".into(), chrono_tz::Europe::Amsterdam),
            ("Utrecht".into(), chrono_tz::Europe::Amsterdam),
        ],
        ..DemoData::default()
    })
    .await
    .unwrap();
    let records = sb.state().inventory().len();
    assert_eq!(records, 10_000);
    let legacy = sb
        .client_builder()
        .api_version(ApiVersion::legacy())
        .build()
        .await
        .unwrap();
    let old: Vec<Inventory> = legacy
        .inventory()
        .list()
        .page_size(1000)
        .all()
        .await
        .unwrap();
    let dated = sb.client().await.unwrap();
    // As the stock flow asks: the version's largest inventory page, else its page size.
    let page = dated.api_version().max_inventory_page().unwrap_or(1000);
    assert_eq!(page, 5000);
    let new: Vec<Inventory> = dated
        .inventory()
        .list()
        .page_size(page)
        .all()
        .await
        .unwrap();
    assert_eq!((old.len(), new.len()), (records, records));
    let total = |v: &[Inventory]| {
        v.iter()
            .map(|i| i.inventory_level)
            .sum::<rust_decimal::Decimal>()
    };
    assert_eq!(total(&old), total(&new));
    let served = sb.stats();
    // 10 pages and the empty page that ends the feed, against 2 pages and the empty one.
    assert_eq!(served.count("GET /api/2.0/inventory"), 11);
    assert_eq!(served.count("POST /api/2026-07/inventory"), 3);
    assert!(
        sb.spec_violations().is_empty(),
        "{:?}",
        sb.spec_violations()
    );
}

/// `POST /inventory` is a read: a 503 is retried like a GET, with the same filter body.
#[tokio::test]
async fn the_inventory_read_is_retried_although_it_is_a_post() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(|req: &Request| respond(true, req))
        .mount(&server)
        .await;
    let c = Client::builder()
        .base_url(server.uri())
        .personal_token("tok".into())
        .unlimited()
        .retry(RetryPolicy {
            max_attempts: 3,
            initial_backoff: std::time::Duration::from_millis(5),
            ..RetryPolicy::default()
        })
        .build()
        .await
        .unwrap();
    let all = c.inventory().list().all().await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(c.stats().retries, 1);
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 3, "the 503, its retry, the empty page");
    assert_eq!(reqs[0].body, reqs[1].body);
}
