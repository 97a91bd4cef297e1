//! The sandbox against the official OpenAPI specs (response and request oracles).
//!
//! Every route the client uses is driven in both API versions (2.0 with 2.1 product writes and the
//! 2.0 BETA webhooks, and 2026-07): lists with records, empty pages, single reads, creates,
//! updates, deletes, searches and the errors 401, 404, 409, 422 and 429. Each response's status
//! and body is validated with `spec_oracle::openapi` against the spec of its path, version and
//! status; the test asserts 0 violations and prints how many responses it checked per version.
//! The last tests show the oracle can fail: a wrong field type, a `null` in a non-nullable field
//! and a wrong status are caught, and the sandbox refuses a request whose body breaks the spec.
//!
//! Needs the official files (`spec_oracle::require_reference_dir`): without them the tests fail
//! naming the path, unless `POS_SYNC_SKIP_SPEC_TESTS=1`.

use futures::TryStreamExt;
use lightspeed_x::sandbox::{DemoData, Sandbox, SandboxConfig};
use serde_json::{Value, json};
use spec_oracle::openapi;
use std::collections::BTreeMap;
use std::time::Duration;

/// Sends requests and validates every response against the spec of its version.
struct Probe {
    http: reqwest::Client,
    base: String,
    token: String,
    checked: BTreeMap<String, usize>,
    violations: Vec<String>,
}

impl Probe {
    fn new(sandbox: &Sandbox) -> Probe {
        Probe {
            http: reqwest::Client::new(),
            base: sandbox.base_url().as_str().trim_end_matches('/').to_owned(),
            token: "lsxs_pt_sandbox".into(),
            checked: BTreeMap::new(),
            violations: Vec::new(),
        }
    }

    /// Sends `method path` (path from `/api/...`) and checks the answer; returns status and body.
    async fn call(&mut self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let mut req = self
            .http
            .request(method.parse().unwrap(), &url)
            .bearer_auth(&self.token);
        if let Some(b) = &body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let parsed: Option<Value> = if text.is_empty() {
            None
        } else {
            Some(serde_json::from_str(&text).unwrap_or(Value::String(text.clone())))
        };
        self.check(method, path, status, parsed.as_ref());
        (status, parsed.unwrap_or(Value::Null))
    }

    fn check(&mut self, method: &str, path: &str, status: u16, body: Option<&Value>) {
        let bare = path.split('?').next().unwrap_or(path);
        let (spec, rel) = openapi::lightspeed_for(method, bare)
            .unwrap_or_else(|| panic!("no spec for {method} {bare}"));
        let version = bare.split('/').nth(2).unwrap_or("?").to_owned();
        *self.checked.entry(version).or_default() += 1;
        if let Err(problems) = spec.validate_response(method, &rel, status, body) {
            self.violations.push(format!(
                "{method} {path} {status} ({}): {}",
                spec.name(),
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
    }
}

fn id_of(v: &Value) -> String {
    v["data"]["id"].as_str().unwrap().to_owned()
}

fn first_id(v: &Value) -> String {
    v["data"][0]["id"].as_str().unwrap().to_owned()
}

/// Every route the client uses, in one version (`2.0` or `2026-07`).
async fn drive_version(p: &mut Probe, sandbox: &Sandbox, v: &str) {
    let api = format!("/api/{v}");
    let dated = v != "2.0";
    let huge = "after=999999999999";
    // Store-level reads.
    p.call("GET", &format!("{api}/retailer"), None).await;
    for list in [
        "outlets",
        "registers",
        "users",
        "products",
        "customers",
        "sales",
        "payment_types",
        "taxes",
        "outlet_taxes",
        "consignments",
        "shifts",
    ] {
        let (status, page) = p
            .call("GET", &format!("{api}/{list}?page_size=3"), None)
            .await;
        assert_eq!(status, 200, "{v} {list}");
        if !["outlet_taxes"].contains(&list) {
            assert!(
                !page["data"].as_array().unwrap().is_empty(),
                "{v} {list} has records"
            );
        }
        let (status, empty) = p.call("GET", &format!("{api}/{list}?{huge}"), None).await;
        assert_eq!(status, 200);
        assert_eq!(empty["data"], json!([]), "{v} {list} empty page");
        if list != "taxes" {
            assert!(
                empty["version"].is_object(),
                "{v} {list}: empty page version"
            );
        }
        // Deleted rows where the list has them.
        p.call(
            "GET",
            &format!("{api}/{list}?deleted=true&page_size=2"),
            None,
        )
        .await;
    }
    let (_, outlets) = p.call("GET", &format!("{api}/outlets"), None).await;
    let outlet = first_id(&outlets);
    p.call("GET", &format!("{api}/outlets/{outlet}"), None)
        .await;
    let (_, registers) = p.call("GET", &format!("{api}/registers"), None).await;
    p.call(
        "GET",
        &format!("{api}/registers/{}", first_id(&registers)),
        None,
    )
    .await;
    let (_, users) = p.call("GET", &format!("{api}/users"), None).await;
    p.call("GET", &format!("{api}/users/{}", first_id(&users)), None)
        .await;
    p.call("GET", &format!("{api}/user"), None).await;
    let (_, sales) = p.call("GET", &format!("{api}/sales"), None).await;
    p.call("GET", &format!("{api}/sales/{}", first_id(&sales)), None)
        .await;
    let (_, consignments) = p.call("GET", &format!("{api}/consignments"), None).await;
    let consignment = first_id(&consignments);
    p.call("GET", &format!("{api}/consignments/{consignment}"), None)
        .await;
    p.call(
        "GET",
        &format!("{api}/consignments/{consignment}/products"),
        None,
    )
    .await;
    p.call(
        "GET",
        &format!("{api}/consignments?type=SUPPLIER&outlet_id={outlet}"),
        None,
    )
    .await;

    // Searches.
    for q in [
        "type=sales&page_size=5",
        "type=sales&order_by=sale_date&order_direction=desc&date_from=2026-01-12T00:00:00Z",
        "type=products&page_size=5",
        "type=customers&page_size=5",
        "type=customers&email=nobody@example.org",
    ] {
        let (status, _) = p.call("GET", &format!("{api}/search?{q}"), None).await;
        assert_eq!(status, 200, "{v} search {q}");
    }

    // Products: create, read, update, inventory, delete.
    let (status, created) = p
        .call(
            "POST",
            &format!("{api}/products"),
            Some(json!({"name": format!("Contract {v}"), "sku": format!("contract-{v}"), "price_excluding_tax": 10})),
        )
        .await;
    assert_eq!(status, 200);
    let product = created["data"][0].as_str().unwrap().to_owned();
    p.call("GET", &format!("{api}/products/{product}"), None)
        .await;
    let update_path = if dated {
        format!("{api}/products/{product}")
    } else {
        format!("/api/2.1/products/{product}")
    };
    let (status, _) = p
        .call(
            "PUT",
            &update_path,
            Some(json!({"common": {"name": format!("Contract {v} renamed")},
                        "details": {"inventory": [{"outlet_id": outlet, "current_amount": 7}]}})),
        )
        .await;
    assert_eq!(status, 200, "{v} product update");
    // 422: both prices at once.
    let (status, _) = p
        .call(
            "PUT",
            &update_path,
            Some(json!({"details": {"price_including_tax": 11, "price_excluding_tax": 10}})),
        )
        .await;
    assert_eq!(status, 422, "{v} product update with both prices");
    if dated {
        let (status, records) = p
            .call(
                "POST",
                &format!("{api}/inventory"),
                Some(json!({"size": 5000, "product_id": product})),
            )
            .await;
        assert_eq!(status, 200);
        assert!(records.as_array().unwrap().iter().any(|r| {
            r["outlet_id"] == json!(outlet) && r["current_inventory_level"] == json!(7)
        }));
        p.call(
            "POST",
            &format!("{api}/inventory"),
            Some(json!({"size": 2})),
        )
        .await;
        // Stock adjustments and their custom reasons.
        let (status, reason) = p
            .call(
                "POST",
                &format!("{api}/custom_inventory_adjustment_reasons"),
                Some(json!({"name": "Shelf check", "enabled": true, "type": "POSITIVE"})),
            )
            .await;
        assert_eq!(status, 200);
        let reason = id_of(&reason);
        let (status, _) = p
            .call(
                "POST",
                &format!("{api}/custom_inventory_adjustment_reasons"),
                Some(json!({"name": "shelf check", "enabled": true, "type": "NEGATIVE"})),
            )
            .await;
        assert_eq!(status, 409);
        let (status, _) = p
            .call(
                "PUT",
                &format!("{api}/custom_inventory_adjustment_reasons/{reason}"),
                Some(json!({"name": "Shelf recount"})),
            )
            .await;
        assert_eq!(status, 200);
        p.call(
            "GET",
            &format!("{api}/custom_inventory_adjustment_reasons"),
            None,
        )
        .await;
        let (status, made) = p
            .call(
                "POST",
                &format!("{api}/stock_adjustments"),
                Some(json!({"stock_adjustments": [
                    {"product_id": product, "outlet_id": outlet, "quantity": "3", "reason": "STOCK_FOUND"},
                    {"product_id": product, "outlet_id": outlet, "quantity": "2", "reason": "CUSTOM",
                     "custom_inventory_adjustment_reason_id": reason},
                    {"product_id": product, "outlet_id": outlet, "quantity": "-1", "reason": "DAMAGE"},
                ]})),
            )
            .await;
        assert_eq!(status, 201);
        assert_eq!(made["data"].as_array().unwrap().len(), 3);
        let level = sandbox
            .state()
            .inventory_level(
                &lightspeed_x::ProductId(product.clone()),
                &lightspeed_x::OutletId(outlet.clone()),
            )
            .unwrap();
        assert_eq!(level, rust_decimal::Decimal::from(11), "7 + 3 + 2 - 1");
        // A sign that does not match its reason: 422, nothing changes.
        let (status, _) = p
            .call(
                "POST",
                &format!("{api}/stock_adjustments"),
                Some(json!({"stock_adjustments": [
                    {"product_id": product, "outlet_id": outlet, "quantity": "5", "reason": "THEFT"}
                ]})),
            )
            .await;
        assert_eq!(status, 422);
        p.call(
            "GET",
            &format!("{api}/stock_adjustments?page_size=1000"),
            None,
        )
        .await;
        p.call("GET", &format!("{api}/stock_adjustments?{huge}"), None)
            .await;
        p.call(
            "GET",
            &format!("{api}/inventory/{product}?page_size=5000"),
            None,
        )
        .await;
        // 2026-07 has no GET /inventory and no /products/{id}/inventory.
        let url = format!("{}{api}/inventory", p.base);
        let r = p.http.get(&url).bearer_auth(&p.token).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 404);
        let url = format!("{}{api}/products/{product}/inventory", p.base);
        let r = p.http.get(&url).bearer_auth(&p.token).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 404);
    } else {
        p.call("GET", &format!("{api}/inventory?page_size=5"), None)
            .await;
        p.call("GET", &format!("{api}/inventory?{huge}"), None)
            .await;
        p.call("GET", &format!("{api}/products/{product}/inventory"), None)
            .await;
    }
    let (status, _) = p
        .call("DELETE", &format!("{api}/products/{product}"), None)
        .await;
    assert_eq!(status, 200, "{v} product delete");
    // 404s.
    let (status, _) = p
        .call("GET", &format!("{api}/products/{product}"), None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = p
        .call("GET", &format!("{api}/customers/no-such-customer"), None)
        .await;
    assert_eq!(status, 404);

    // Customers: create, read, update, delete.
    let (status, c) = p
        .call(
            "POST",
            &format!("{api}/customers"),
            Some(json!({"first_name": "Grace", "last_name": "Hopper", "email": format!("grace-{v}@example.org")})),
        )
        .await;
    assert_eq!(status, 201);
    let customer = id_of(&c);
    p.call("GET", &format!("{api}/customers/{customer}"), None)
        .await;
    let (status, _) = p
        .call(
            "PUT",
            &format!("{api}/customers/{customer}"),
            Some(json!({"first_name": "Grace", "last_name": "Hopper", "phone": "+1 555 0100"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = p
        .call("DELETE", &format!("{api}/customers/{customer}"), None)
        .await;
    assert_eq!(status, 204);

    // Webhooks: create, duplicate (409), list, delete, delete again (404).
    let hook_url = format!("https://example.org/hooks/{v}");
    let (status, hook) = p
        .call(
            "POST",
            &format!("{api}/webhooks"),
            Some(json!({"url": hook_url, "active": true, "type": "sale.update"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = p
        .call(
            "POST",
            &format!("{api}/webhooks"),
            Some(json!({"url": hook_url, "active": true, "type": "sale.update"})),
        )
        .await;
    assert_eq!(status, 409);
    p.call("GET", &format!("{api}/webhooks"), None).await;
    let hook = id_of(&hook);
    let (status, _) = p
        .call("DELETE", &format!("{api}/webhooks/{hook}"), None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = p
        .call("DELETE", &format!("{api}/webhooks/{hook}"), None)
        .await;
    assert_eq!(status, 404);

    // 401: a token the store does not know.
    let good = std::mem::replace(&mut p.token, "lsxs_pt_wrong".into());
    let (status, body) = p.call("GET", &format!("{api}/products"), None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "Access token is not valid");
    p.token = good;
    assert!(sandbox.spec_violations().is_empty());
}

#[tokio::test]
async fn every_route_in_both_versions_matches_the_official_specs() {
    if spec_oracle::require_reference_dir().is_none() {
        return;
    }
    let sandbox = Sandbox::start_seeded(DemoData::default()).await.unwrap();
    assert!(sandbox.spec_checks_active());
    let mut p = Probe::new(&sandbox);
    drive_version(&mut p, &sandbox, "2.0").await;
    drive_version(&mut p, &sandbox, "2026-07").await;

    // 429 from the rate limit, in both versions.
    let limited = Sandbox::start_with(
        SandboxConfig {
            rate_limit: Some((1, Duration::from_secs(60))),
            ..SandboxConfig::default()
        },
        Some(DemoData::default()),
    )
    .await
    .unwrap();
    let mut q = Probe::new(&limited);
    for v in ["2.0", "2026-07"] {
        let mut statuses = Vec::new();
        for _ in 0..3 {
            statuses.push(q.call("GET", &format!("/api/{v}/outlets"), None).await.0);
        }
        assert!(statuses.contains(&429), "{v}: {statuses:?}");
    }

    for (v, n) in p.checked.iter().chain(q.checked.iter()) {
        println!("{v}: {n} responses checked");
    }
    assert!(
        p.checked["2.0"] >= 60 && p.checked["2026-07"] >= 60,
        "{:?}",
        p.checked
    );
    let all: Vec<&String> = p.violations.iter().chain(q.violations.iter()).collect();
    assert!(all.is_empty(), "{} violations:\n{all:#?}", all.len());
    assert!(sandbox.spec_violations().is_empty());
    assert!(limited.spec_violations().is_empty());
}

/// The real client against the sandbox (2.0): every read, paging to the end, writes; the sandbox's
/// own response check turns any violation into a 500 the client would fail on.
#[tokio::test]
async fn the_client_reads_and_writes_without_violations() {
    if spec_oracle::require_reference_dir().is_none() {
        return;
    }
    let sandbox = Sandbox::start_seeded(DemoData::default()).await.unwrap();
    let client = sandbox.client().await.unwrap();
    let products: Vec<_> = client
        .products()
        .list()
        .page_size(4)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(products.len(), sandbox.state().products().len());
    let sales: Vec<_> = client.sales().list().stream().try_collect().await.unwrap();
    assert_eq!(sales.len(), sandbox.state().sales().len());
    // Walk-in sales point at the walk-in customer, as on the real API.
    let walkin = sandbox
        .state()
        .customers()
        .all()
        .find(|c| c.customer_code.as_deref() == Some("WALKIN"))
        .map(|c| c.id.clone())
        .unwrap();
    assert!(
        sales
            .iter()
            .any(|s| s.customer_id.as_ref() == Some(&walkin))
    );
    assert!(sales.iter().all(|s| s.customer_id.is_some()));
    let _: Vec<_> = client
        .customers()
        .list()
        .stream()
        .try_collect()
        .await
        .unwrap();
    let _: Vec<_> = client.users().list().stream().try_collect().await.unwrap();
    let _: Vec<_> = client
        .taxes()
        .outlet_taxes()
        .stream()
        .try_collect()
        .await
        .unwrap();
    let p = &products[0];
    assert!(
        p.image_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    );
    let outlet = sandbox.state().outlets().live()[0].id.clone();
    client
        .inventory()
        .set_level(&p.id, &outlet, rust_decimal::Decimal::from(4))
        .await
        .unwrap();
    let levels: Vec<_> = client
        .products()
        .inventory(&p.id)
        .unwrap()
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert!(levels.iter().any(|i| i.outlet_id == outlet));
    let _: Vec<_> = client
        .inventory()
        .list()
        .stream()
        .try_collect()
        .await
        .unwrap();
    let outlet_sales = client.sales().search().outlet(&outlet).all().await.unwrap();
    assert!(!outlet_sales.is_empty());
    let consignments: Vec<_> = client
        .consignments()
        .list()
        .stream()
        .try_collect()
        .await
        .unwrap();
    let _: Vec<_> = client
        .consignments()
        .products(&consignments[0].id)
        .unwrap()
        .stream()
        .try_collect()
        .await
        .unwrap();
    let _: Vec<_> = client.shifts().list().stream().try_collect().await.unwrap();
    let hook = client
        .webhooks()
        .create(
            "https://example.org/contract",
            lightspeed_x::enums::WebhookType::SaleUpdate,
        )
        .await
        .unwrap();
    assert_eq!(client.webhooks().list().await.unwrap().len(), 1);
    client.webhooks().delete(&hook.id).await.unwrap();
    client.products().delete(&p.id).await.unwrap();
    assert!(
        sandbox.spec_violations().is_empty(),
        "{:#?}",
        sandbox.spec_violations()
    );
}

#[tokio::test]
async fn the_oracle_catches_a_wrong_type_a_null_and_a_wrong_status() {
    if spec_oracle::require_reference_dir().is_none() {
        return;
    }
    let sandbox = Sandbox::start_seeded(DemoData::default()).await.unwrap();
    let mut p = Probe::new(&sandbox);
    for v in ["2.0", "2026-07"] {
        let (spec, rel) = openapi::lightspeed_for("GET", &format!("/api/{v}/products")).unwrap();
        let (_, page) = p.call("GET", &format!("/api/{v}/products"), None).await;
        assert_eq!(
            spec.validate_response("GET", &rel, 200, Some(&page)),
            Ok(())
        );
        // A number where the spec says string.
        let mut wrong = page.clone();
        wrong["data"][0]["name"] = json!(42);
        let errs = spec
            .validate_response("GET", &rel, 200, Some(&wrong))
            .unwrap_err();
        assert!(errs.iter().any(|e| e.at == "/data/0/name"), "{v}: {errs:?}");
        // null in a non-nullable field.
        let mut null = page.clone();
        null["data"][0]["id"] = Value::Null;
        let errs = spec
            .validate_response("GET", &rel, 200, Some(&null))
            .unwrap_err();
        assert!(errs.iter().any(|e| e.at == "/data/0/id"), "{v}: {errs:?}");
        // A documented key left out of a response.
        let mut missing = page.clone();
        missing["data"][0].as_object_mut().unwrap().remove("name");
        assert!(
            spec.validate_response("GET", &rel, 200, Some(&missing))
                .is_err()
        );
        // A status the operation does not document.
        let errs = spec
            .validate_response("GET", &rel, 201, Some(&page))
            .unwrap_err();
        assert_eq!(errs[0].at, "status", "{v}");
        // DELETE /products/{id} is documented as 200, not 204.
        let (spec, rel) =
            openapi::lightspeed_for("DELETE", &format!("/api/{v}/products/abc")).unwrap();
        assert!(spec.validate_response("DELETE", &rel, 204, None).is_err());
        assert_eq!(spec.validate_response("DELETE", &rel, 200, None), Ok(()));
    }
    // 2.0 customers carry their group and code; taking them out is caught.
    let (spec, rel) = openapi::lightspeed_for("GET", "/api/2.0/customers").unwrap();
    let (_, page) = p.call("GET", "/api/2.0/customers", None).await;
    for key in ["customer_group_id", "customer_code", "created_at"] {
        let mut bad = page.clone();
        bad["data"][0][key] = Value::Null;
        assert!(
            spec.validate_response("GET", &rel, 200, Some(&bad))
                .is_err(),
            "{key}"
        );
    }
    assert!(p.violations.is_empty(), "{:#?}", p.violations);
}

#[tokio::test]
async fn the_sandbox_refuses_requests_that_break_the_spec() {
    if spec_oracle::require_reference_dir().is_none() {
        return;
    }
    let sandbox = Sandbox::start_seeded(DemoData::default()).await.unwrap();
    let mut p = Probe::new(&sandbox);
    let product = sandbox.state().products().live()[0].id.0.clone();
    for v in ["2.0", "2026-07"] {
        // A customer without the name keys both specs require, and a number for a string.
        let before = sandbox.state().customers().len();
        let (status, body) = p
            .call(
                "POST",
                &format!("/api/{v}/customers"),
                Some(json!({"company_name": "Only A Company Ltd"})),
            )
            .await;
        assert_eq!(status, 400, "{v}: {body}");
        assert!(body["details"].as_str().unwrap().contains("first_name"));
        let (status, _) = p
            .call(
                "POST",
                &format!("/api/{v}/customers"),
                Some(json!({"first_name": 5, "last_name": "X"})),
            )
            .await;
        assert_eq!(status, 400, "{v}");
        assert_eq!(
            sandbox.state().customers().len(),
            before,
            "nothing was created"
        );
        // A query parameter of the wrong type.
        let (status, _) = p
            .call("GET", &format!("/api/{v}/products?page_size=many"), None)
            .await;
        assert_eq!(status, 400, "{v}");
        // A search without its required type.
        let (status, _) = p.call("GET", &format!("/api/{v}/search"), None).await;
        assert_eq!(status, 400, "{v}");
    }
    // Product updates document 422 for a body that cannot be processed.
    for path in [
        format!("/api/2.1/products/{product}"),
        format!("/api/2026-07/products/{product}"),
    ] {
        let (status, _) = p
            .call("PUT", &path, Some(json!({"common": {"name": 7}})))
            .await;
        assert_eq!(status, 422, "{path}");
    }
    // 2026-07 inventory filter: size above 5000.
    let (status, _) = p
        .call(
            "POST",
            "/api/2026-07/inventory",
            Some(json!({"size": "lots"})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(p.violations.is_empty(), "{:#?}", p.violations);
}

#[tokio::test]
async fn checks_can_be_turned_off() {
    let sandbox = Sandbox::start_with(
        SandboxConfig {
            spec_checks: false,
            ..SandboxConfig::default()
        },
        None,
    )
    .await
    .unwrap();
    assert!(!sandbox.spec_checks_active());
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}api/2.0/customers", sandbox.base_url()))
        .bearer_auth("lsxs_pt_sandbox")
        .json(&json!({"company_name": "Only A Company Ltd"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
}

#[tokio::test]
async fn a_response_that_breaks_the_spec_is_a_recorded_500() {
    if spec_oracle::require_reference_dir().is_none() {
        return;
    }
    let sandbox = Sandbox::start_seeded(DemoData::default()).await.unwrap();
    let id = sandbox.state().products().live()[0].id.clone();
    // 2.0 allows a product without a SKU; 2026-07 documents `sku` as a non-nullable string.
    sandbox.update_product(&id, |p| p.sku = None).unwrap();
    let http = reqwest::Client::new();
    let get = |v: &str| {
        http.get(format!("{}api/{v}/products/{id}", sandbox.base_url()))
            .bearer_auth("lsxs_pt_sandbox")
            .send()
    };
    assert_eq!(get("2.0").await.unwrap().status().as_u16(), 200);
    let r = get("2026-07").await.unwrap();
    assert_eq!(r.status().as_u16(), 500);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("/data/sku"),
        "{body}"
    );
    let recorded = sandbox.spec_violations();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].status, 200);
    assert!(recorded[0].route.starts_with("GET /api/2026-07/products/"));
}
