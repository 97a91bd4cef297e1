//! The webhook receiver against both sandboxes: Lightspeed delivers signed `sale.update` webhooks
//! to it, Business Central performs the handshake and sends notifications, and the triggers run
//! the flows for the records that changed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::IntoResponse;
use business_central::models::{Item, ItemInput, SalesOrder};
use business_central::query::{Filter, Query};
use lightspeed_x::sandbox::{DemoData, Sandbox as Lightspeed};
use lightspeed_x::{InventoryLevel, OutletId, ProductCreate, ProductId, Sale};
use pos_sync::webhooks::{
    BUSINESS_CENTRAL_PATH, LIGHTSPEED_PATH, Receiver, ReceiverSecrets, Subscriptions,
};
use pos_sync_flows::lightspeed_business_central::{
    Accounts, SalesFlow, SalesOptions, StockFlow, StockOptions,
};
use rust_decimal::Decimal;
use secrecy::SecretString;
use sync_core::run::Runner;
use sync_core::state::MemoryStore;
use sync_core::trigger::{Trigger, TriggerOptions};

const CLIENT_STATE: &str = "test-client-state";

struct Harness {
    ls: Lightspeed,
    bc: business_central::sandbox::Sandbox,
    accounts: Accounts,
    runner: Runner,
    sales: Arc<SalesFlow>,
    stock: Arc<StockFlow>,
    receiver: Arc<Receiver>,
    url: String,
    products: Vec<ProductId>,
    outlet: OutletId,
    drop_lightspeed: Arc<AtomicBool>,
    http: reqwest::Client,
    _server: tokio::task::JoinHandle<()>,
}

fn fast() -> TriggerOptions {
    TriggerOptions {
        debounce: Duration::from_millis(50),
        max_delay: Duration::from_millis(500),
        backoff: Duration::from_millis(100),
        lock_wait: Duration::from_millis(50),
        ..TriggerOptions::default()
    }
}

async fn harness(options: TriggerOptions) -> Harness {
    let ls = Lightspeed::start_seeded(DemoData {
        outlets: vec![("Centrum".into(), chrono_tz::Europe::Amsterdam)],
        product_families: 0,
        customers: 0,
        days: 0,
        sales_per_day: 0,
        ..DemoData::default()
    })
    .await
    .unwrap();
    let bc = business_central::sandbox::Sandbox::start().await.unwrap();
    let accounts = Accounts::new(ls.client().await.unwrap(), bc.client(), bc.company_id());
    let outlet = ls.state().outlets().live()[0].id.clone();
    let mut products = Vec::new();
    for sku in ["1001", "1002", "1003", "1004", "1005"] {
        let p = ProductCreate {
            name: format!("Item {sku}"),
            sku: Some(sku.into()),
            price_excluding_tax: Some(Decimal::from(10)),
            inventory: vec![InventoryLevel::set(outlet.clone(), Decimal::from(20))],
            ..Default::default()
        };
        products.push(accounts.lightspeed.products().create(&p).await.unwrap()[0].clone());
    }
    let runner = Runner::new(Arc::new(MemoryStore::new()));
    let sales = Arc::new(SalesFlow::new(
        accounts.clone(),
        SalesOptions {
            default_customer_number: Some("10000".into()),
            ..SalesOptions::default()
        },
    ));
    let stock = Arc::new(StockFlow::new(
        accounts.clone(),
        StockOptions {
            outlet: Some(outlet.clone()),
            ..StockOptions::default()
        },
    ));
    let secrets = ReceiverSecrets {
        lightspeed: Some(SecretString::from(ls.config().client_secret.clone())),
        client_state: SecretString::from(CLIENT_STATE),
    };
    let receiver = Receiver::new(
        secrets.clone(),
        accounts.clone(),
        Trigger::start(sales.clone(), runner.clone(), "shop", options.clone()),
        Trigger::start(stock.clone(), runner.clone(), "shop", options),
    );
    // The test can drop Lightspeed deliveries (answered 200, never processed): a missed webhook.
    let drop_lightspeed = Arc::new(AtomicBool::new(false));
    let dropping = drop_lightspeed.clone();
    let router = receiver.router().layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            let dropping = dropping.clone();
            async move {
                if dropping.load(Ordering::SeqCst) && req.uri().path() == LIGHTSPEED_PATH {
                    return StatusCode::OK.into_response();
                }
                next.run(req).await
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let subs = Subscriptions::ensure(&accounts, &url, &secrets.client_state)
        .await
        .unwrap();
    assert_eq!((subs.lightspeed.len(), subs.business_central.len()), (1, 2));
    Harness {
        ls,
        bc,
        accounts,
        runner,
        sales,
        stock,
        receiver,
        url,
        products,
        outlet,
        drop_lightspeed,
        http: reqwest::Client::new(),
        _server: server,
    }
}

impl Harness {
    fn sell(&self, product: usize, quantity: i64) -> Sale {
        self.ls
            .add_sale(
                &self.outlet,
                &[(self.products[product].clone(), Decimal::from(quantity))],
                None,
                chrono::Utc::now(),
            )
            .unwrap()
    }

    fn orders(&self) -> Vec<SalesOrder> {
        self.bc.entities::<SalesOrder>()
    }

    fn has_order(&self, sale: &Sale) -> bool {
        let number = sale.invoice_number.clone().unwrap_or_default();
        self.orders()
            .iter()
            .any(|o| o.external_document_number == number)
    }

    fn level(&self, product: usize) -> Decimal {
        self.ls
            .state()
            .inventory_level(&self.products[product], &self.outlet)
            .unwrap_or_default()
    }

    async fn settle(&self) {
        self.ls.flush_webhooks().await;
        self.receiver.sales().idle().await;
        self.receiver.stock().idle().await;
    }

    async fn post_lightspeed(&self, body: &str, signature: Option<&str>) -> u16 {
        let mut req = self
            .http
            .post(format!("{}{LIGHTSPEED_PATH}", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let Some(s) = signature {
            req = req.header("x-signature", s);
        }
        req.send().await.unwrap().status().as_u16()
    }

    async fn item(&self, number: &str) -> Item {
        self.accounts
            .bc()
            .items()
            .list_all(Query::new().filter(Filter::field("number").eq(number)))
            .await
            .unwrap()
            .remove(0)
    }
}

async fn wait_until(limit: Duration, mut done: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < limit, "not seen within {limit:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    start.elapsed()
}

#[tokio::test]
async fn a_sale_becomes_an_order_and_a_stock_change_reaches_lightspeed_within_seconds() {
    let h = harness(fast()).await;
    assert!(
        h.runner
            .run_once(&*h.stock, "shop")
            .await
            .unwrap()
            .is_success()
    );

    let started = Instant::now();
    let sale = h.sell(0, 2);
    wait_until(Duration::from_secs(10), async || h.has_order(&sale)).await;
    let sale_latency = started.elapsed();
    let orders = h.orders();
    let order = orders
        .iter()
        .find(|o| Some(&o.external_document_number) == sale.invoice_number.as_ref())
        .unwrap();
    assert_eq!(order.customer_number, "10000");

    // Stock counted again in Business Central (PATCH posts an adjustment; a notification follows).
    let reserved = h
        .accounts
        .bc()
        .open_order_quantities()
        .await
        .unwrap()
        .get("1003")
        .copied()
        .unwrap_or_default();
    let expected = (Decimal::from(7) - reserved).max(Decimal::ZERO);
    assert_ne!(h.level(2), expected);
    let item = h.item("1003").await;
    let started = Instant::now();
    h.accounts
        .bc()
        .items()
        .update_entity(&item, &ItemInput::new().inventory(Decimal::from(7)))
        .await
        .unwrap();
    wait_until(Duration::from_secs(10), async || {
        h.bc.deliver_notifications().await;
        h.level(2) == expected
    })
    .await;
    let stock_latency = started.elapsed();
    println!(
        "event to write: sale -> order {:.0} ms, stock -> Lightspeed {:.0} ms",
        sale_latency.as_secs_f64() * 1000.0,
        stock_latency.as_secs_f64() * 1000.0
    );
    assert!(sale_latency < Duration::from_secs(5));
    assert!(stock_latency < Duration::from_secs(5));
    // The writes were seen; let the runs finish before reading their counters.
    h.receiver.sales().idle().await;
    h.receiver.stock().idle().await;
    let s = h.receiver.sales().stats();
    assert_eq!((s.targeted_runs, s.records_run, s.full_runs), (1, 1, 0));
    assert!(h.receiver.stock().stats().targeted_runs >= 1);
}

#[tokio::test]
async fn duplicate_and_out_of_order_deliveries_change_nothing() {
    let h = harness(fast()).await;
    let sale = h.sell(1, 1);
    h.settle().await;
    assert!(h.has_order(&sale));
    let delivery =
        h.ls.state()
            .deliveries()
            .iter()
            .find(|d| d.body.contains(&sale.id.0))
            .cloned()
            .unwrap();
    assert_eq!(delivery.status, Some(200), "answered at once");
    let (ls_before, bc_before, orders_before) = (
        h.ls.stats().requests,
        h.bc.stats().requests,
        h.orders().len(),
    );

    // The same delivery again, and an older version of the sale after the newer one.
    assert_eq!(
        h.post_lightspeed(&delivery.body, Some(&delivery.signature))
            .await,
        200
    );
    let version = sale.version.unwrap().0;
    let older = delivery.body.replace(
        &format!("%22version%22%3A{version}"),
        &format!("%22version%22%3A{}", version - 1),
    );
    assert_ne!(older, delivery.body, "the version is in the payload");
    let secret = SecretString::from(h.ls.config().client_secret.clone());
    let signature = lightspeed_x::webhook::sign(&secret, older.as_bytes());
    assert_eq!(h.post_lightspeed(&older, Some(&signature)).await, 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    h.settle().await;

    assert_eq!(h.orders().len(), orders_before);
    assert_eq!(h.ls.stats().requests, ls_before, "no Lightspeed request");
    assert_eq!(
        h.bc.stats().requests,
        bc_before,
        "no Business Central request"
    );
    let s = h.receiver.sales().stats();
    assert_eq!((s.received, s.dropped, s.targeted_runs), (3, 2, 1));
}

#[tokio::test]
async fn forged_calls_are_refused_and_the_handshake_is_answered() {
    let h = harness(fast()).await;
    let body = "type=sale.update&payload=%7B%22id%22%3A%22x%22%2C%22version%22%3A5%7D";
    let forged =
        lightspeed_x::webhook::sign(&SecretString::from("not-the-secret"), body.as_bytes());
    assert_eq!(h.post_lightspeed(body, Some(&forged)).await, 401);
    assert_eq!(h.post_lightspeed(body, None).await, 401);
    assert_eq!(h.receiver.sales().stats().received, 0);
    assert_eq!(
        h.receiver
            .stats()
            .lightspeed_refused
            .load(Ordering::Relaxed),
        2
    );
    // Signed but not a delivery: 400. Signed without a `type` field: read as `sale.update`.
    let secret = SecretString::from(h.ls.config().client_secret.clone());
    let sign = |b: &str| lightspeed_x::webhook::sign(&secret, b.as_bytes());
    assert_eq!(h.post_lightspeed("hello", Some(&sign("hello"))).await, 400);
    let untyped = "payload=%7B%22id%22%3A%22no-such-sale%22%2C%22version%22%3A5%7D";
    assert_eq!(h.post_lightspeed(untyped, Some(&sign(untyped))).await, 200);
    assert_eq!(h.receiver.sales().stats().received, 1);

    let bc_url = format!("{}{BUSINESS_CENTRAL_PATH}", h.url);
    let r = h
        .http
        .post(format!("{bc_url}?validationToken=abc%2B1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), "abc+1");
    let notification = |state: &str| {
        serde_json::json!({"value": [{
            "subscriptionId": "s", "clientState": state, "changeType": "updated",
            "resource": format!("api/v2.0/companies({})/items({})", h.bc.company_id(), uuid::Uuid::new_v4()),
            "lastModifiedDateTime": "2026-11-23T12:00:00Z",
        }]})
        .to_string()
    };
    let r = h
        .http
        .post(&bc_url)
        .body(notification("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(h.receiver.stock().stats().received, 0);
    let r = h
        .http
        .post(&bc_url)
        .body(notification(CLIENT_STATE))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
}

#[tokio::test]
async fn a_missed_webhook_is_caught_by_the_next_polling_run() {
    let h = harness(fast()).await;
    h.drop_lightspeed.store(true, Ordering::SeqCst);
    let sale = h.sell(3, 1);
    h.settle().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    h.settle().await;
    assert!(!h.has_order(&sale), "the webhook was lost");
    assert_eq!(h.receiver.sales().stats().received, 0);

    let report = h.runner.run_once(&*h.sales, "shop").await.unwrap();
    assert_eq!(report.created, 1);
    assert!(h.has_order(&sale));

    // Deliveries work again; the late one for the same version changes nothing.
    h.drop_lightspeed.store(false, Ordering::SeqCst);
    let delivery = h.ls.state().deliveries().last().cloned().unwrap();
    let before = h.bc.stats().requests;
    assert_eq!(
        h.post_lightspeed(&delivery.body, Some(&delivery.signature))
            .await,
        200
    );
    h.settle().await;
    assert_eq!(h.receiver.sales().stats().covered, 1);
    assert_eq!(h.bc.stats().requests, before);
}

#[tokio::test]
async fn a_flood_larger_than_the_queue_is_not_lost() {
    let options = TriggerOptions {
        capacity: 3,
        debounce: Duration::from_millis(500),
        max_delay: Duration::from_secs(3),
        ..fast()
    };
    let h = harness(options).await;
    let sales: Vec<Sale> = (0..12).map(|i| h.sell(i % 5, 1)).collect();
    h.settle().await;
    for s in &sales {
        assert!(h.has_order(s), "sale {} has an order", s.id.0);
    }
    let s = h.receiver.sales().stats();
    assert!(s.collapsed >= 1, "{s:?}");
    assert!(s.full_runs >= 1, "{s:?}");
    assert!(h.receiver.sales().waiting() <= 3);
}

#[tokio::test]
async fn a_collection_notification_is_requeried() {
    let h = harness(fast()).await;
    assert!(
        h.runner
            .run_once(&*h.stock, "shop")
            .await
            .unwrap()
            .is_success()
    );
    let since = chrono::Utc::now() - chrono::Duration::seconds(1);
    let item = h.item("1004").await;
    h.accounts
        .bc()
        .items()
        .update_entity(&item, &ItemInput::new().inventory(Decimal::from(3)))
        .await
        .unwrap();
    let body = serde_json::json!({"value": [{
        "subscriptionId": "s", "clientState": CLIENT_STATE, "changeType": "collection",
        "resource": format!(
            "api/v2.0/companies({})/items?$filter=lastDateTimeModified%20gt%20{}",
            h.bc.company_id(),
            since.format("%Y-%m-%dT%H:%M:%SZ")
        ),
        "lastModifiedDateTime": chrono::Utc::now().to_rfc3339(),
    }]});
    let r = h
        .http
        .post(format!("{}{BUSINESS_CENTRAL_PATH}", h.url))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let reserved = h
        .accounts
        .bc()
        .open_order_quantities()
        .await
        .unwrap()
        .get("1004")
        .copied()
        .unwrap_or_default();
    let expected = (Decimal::from(3) - reserved).max(Decimal::ZERO);
    wait_until(Duration::from_secs(10), async || h.level(3) == expected).await;
    assert!(h.receiver.stock().stats().received >= 1);
}

#[tokio::test]
async fn subscriptions_are_reused_and_renewed_before_they_expire() {
    let h = harness(fast()).await;
    let state = SecretString::from(CLIENT_STATE);
    let mut subs = Subscriptions::ensure(&h.accounts, &h.url, &state)
        .await
        .unwrap();
    assert_eq!(
        h.accounts.lightspeed.webhooks().list().await.unwrap().len(),
        1
    );
    let listed = h
        .accounts
        .business_central
        .subscriptions()
        .list_all(Query::new())
        .await
        .unwrap();
    assert_eq!(listed.len(), 2, "a restart reuses the subscriptions");
    let expiry = subs.next_expiry().unwrap();
    assert!(expiry > chrono::Utc::now() + chrono::Duration::days(2));
    let now = chrono::Utc::now();
    let margin = chrono::Duration::days(1);
    assert_eq!(subs.renew_due(&h.accounts, now, margin).await.unwrap(), 0);
    // Half a day before they expire, both are renewed (the handshake is repeated).
    let later = expiry - chrono::Duration::hours(12);
    assert_eq!(subs.renew_due(&h.accounts, later, margin).await.unwrap(), 2);
    assert!(subs.next_expiry().unwrap() >= expiry);
}

#[tokio::test]
async fn duplicate_and_out_of_order_notifications_change_nothing() {
    let h = harness(fast()).await;
    let id = h.item("1002").await.id.unwrap();
    let bc_url = format!("{}{BUSINESS_CENTRAL_PATH}", h.url);
    let post = async |at: &str| {
        let body = serde_json::json!({"value": [{
            "subscriptionId": "s", "clientState": CLIENT_STATE, "changeType": "updated",
            "resource": format!("api/v2.0/companies({})/items({id})", h.bc.company_id()),
            "lastModifiedDateTime": at,
        }]});
        let r = h.http.post(&bc_url).body(body.to_string()).send().await;
        r.unwrap().status().as_u16()
    };
    assert_eq!(post("2026-11-23T12:00:05Z").await, 202);
    received(&h, 1).await;
    assert_eq!(h.receiver.stock().stats().targeted_runs, 1);
    let before = (h.ls.stats().requests, h.bc.stats().requests);

    assert_eq!(post("2026-11-23T12:00:05Z").await, 202);
    assert_eq!(post("2026-11-23T12:00:01Z").await, 202);
    received(&h, 3).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    h.receiver.stock().idle().await;
    assert_eq!((h.ls.stats().requests, h.bc.stats().requests), before);
    let s = h.receiver.stock().stats();
    assert_eq!((s.dropped, s.targeted_runs), (2, 1));
}

/// Waits until the stock trigger got `n` events and ran them.
async fn received(h: &Harness, n: u64) {
    wait_until(Duration::from_secs(10), async || {
        h.receiver.stock().stats().received >= n
    })
    .await;
    h.receiver.stock().idle().await;
}
